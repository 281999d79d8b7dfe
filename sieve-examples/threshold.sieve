# relaytrust: Junk by the trusted relay's score against a per-user threshold.
#
# The relay says spam or not (spam=yes|no) against its own required score; this script lets
# each user draw the line: everything with a trusted score at or above the user's threshold
# goes to Junk, everything below stays, whatever the relay's Yes/No. Mail without a trusted
# verdict (trusted=no: not from the trusted relay, forged headers removed) is never junked.
#
# Use it two ways:
#   - alone: edit the default below;
#   - shared: install it as a global script (Dovecot: sieve_global; Stalwart: see README.md)
#     named "threshold", and let each user set their own value before including it, as
#     threshold-user.sieve shows.
# The threshold is a score with up to two decimals ("5", "3.5", "4.25"); negative thresholds
# are not supported. relaytrust writes the score with exactly two decimals ("6.10", "-0.50"),
# so both are compared as whole hundredths with the numeric comparator.
#
# Extensions: include (for "global"), variables, relational, comparator-i;ascii-numeric,
# fileinto. Stalwart and Dovecot (Pigeonhole) both have them.
require ["include", "variables", "relational", "comparator-i;ascii-numeric", "fileinto"];

global "junk_threshold";
if string :is "${junk_threshold}" "" {
    set "junk_threshold" "5.00";
}

# The threshold in hundredths.
if string :matches "${junk_threshold}" "*.??" {
    set "limit" "${1}${2}${3}";
} elsif string :matches "${junk_threshold}" "*.?" {
    set "limit" "${1}${2}0";
} else {
    set "limit" "${junk_threshold}00";
}

if header :contains "X-Relaytrust-Result" "; trusted=yes;" {
    if header :matches "X-Relaytrust-Result" "*; score=*.*; virus=*" {
        set "whole" "${2}";
        set "hundredths" "${3}";
        # A negative score is below any threshold (and i;ascii-numeric cannot read "-").
        if not string :matches "${whole}" "-*" {
            if string :value "ge" :comparator "i;ascii-numeric" "${whole}${hundredths}" "${limit}" {
                fileinto "Junk";
                stop;
            }
        }
    }
}
