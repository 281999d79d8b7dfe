# relaytrust: file mail that the trusted AV/spam relay called spam into "Junk".
#
# relaytrust writes X-Relaytrust-Result on every message it delivers and removes every copy a
# sender wrote, so the header can be believed:
#   X-Relaytrust-Result: mx.example.com; action=accept; rule=spam-tag; listener=relay-in;
#    trusted=yes; relay=av-relay; spam=yes; score=6.10; virus=no; stripped=0
# "trusted=yes" means the spam verdict comes from the policy's trusted relay; "spam=yes" that
# the relay said spam. A verdict any other sender wrote (X-Spam-Status: Yes, ...) is removed
# by relaytrust and the result says "trusted=no; spam=unknown": such mail stays in INBOX.
#
# Extensions: fileinto. Stalwart and Dovecot (Pigeonhole) both have it.
require ["fileinto"];

if allof (header :contains "X-Relaytrust-Result" "; trusted=yes;",
          header :contains "X-Relaytrust-Result" "; spam=yes;") {
    fileinto "Junk";
    stop;
}
