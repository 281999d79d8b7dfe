# relaytrust: Junk and Quarantine by the standard spamtest and virustest tests (RFC 5235).
#
# Dovecot only: the tests read relaytrust's result header through the settings in
# dovecot/90-sieve-relaytrust.conf. spamtest is then 0 when no trusted relay gave a verdict
# (forged X-Spam-* headers are removed by relaytrust and never count), else 1 + 9 x score /
# sieve_spamtest_max_value rounded down (1..10; with max 10.0: score 6.1 -> 6, 3.8 -> 4).
# virustest is 5 when the trusted relay found a virus.
#
# Extensions: spamtest, virustest, relational, comparator-i;ascii-numeric, fileinto. Stalwart
# implements spamtest and virustest, but fills them from its own state, not from a header
# (see README.md): on Stalwart use junk.sieve or quarantine.sieve.
require ["spamtest", "virustest", "relational", "comparator-i;ascii-numeric", "fileinto"];

if virustest :value "eq" :comparator "i;ascii-numeric" "5" {
    fileinto "Quarantine";
    stop;
}
# 6 and above: a trusted score of about 5.6 or more (with sieve_spamtest_max_value = 10.0).
if spamtest :value "ge" :comparator "i;ascii-numeric" "6" {
    fileinto "Junk";
    stop;
}
