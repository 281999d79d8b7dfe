# relaytrust: Junk by percentage with spamtestplus (RFC 5235, spamtest :percent).
#
# Dovecot only, with dovecot/90-sieve-relaytrust.conf: spamtest :percent is the trusted
# relay's score as a share of sieve_spamtest_max_value, 0..100 (with 10.0: score 6.1 -> 61,
# 3.8 -> 38). It is 0 both for "certainly not spam" (a score of 0 or less) and for "no
# trusted verdict" (mail that did not come through the trusted relay; forged X-Spam-* headers
# are removed by relaytrust and never count). Pigeonhole's `spamtest :percent :count` does not
# tell the two apart (it is 1 whenever the test is configured); test the result header for
# "; trusted=no;" if you need to.
#
# Extensions: spamtestplus, relational, comparator-i;ascii-numeric, fileinto. On Stalwart use
# junk.sieve or threshold.sieve (see README.md).
require ["spamtestplus", "relational", "comparator-i;ascii-numeric", "fileinto"];

# 50 % of the reject threshold and above: a trusted score of 5.0 or more.
if spamtest :percent :value "ge" :comparator "i;ascii-numeric" "50" {
    fileinto "Junk";
    stop;
}
