# relaytrust: a user's own spam threshold, applied by the shared threshold.sieve.
#
# The administrator installs threshold.sieve as the global script "threshold" (Dovecot:
# sieve_global = file:/etc/dovecot/sieve-global, with threshold.sieve in that directory); each
# user's script sets the variable and includes it. Here: junk everything the trusted relay
# scored 3.5 or more, stricter than the relay's own "required" score.
#
# Extensions: include, variables. Stalwart and Dovecot (Pigeonhole) both have them.
require ["include", "variables"];

global "junk_threshold";
set "junk_threshold" "3.5";
include :global "threshold";

# ... the user's other rules follow ...
