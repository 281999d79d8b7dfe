# relaytrust: file quarantined mail and viruses into "Quarantine", trusted spam into "Junk".
#
# A policy rule with "action": "quarantine" keeps the message for review. On Stalwart,
# relaytrust-hookd delivers it with "action=quarantine" in the result header (Stalwart's own
# quarantine would drop it), and this script is what moves it out of the INBOX. On Postfix the
# message waits in the hold queue; once an administrator releases it (postsuper -H) it arrives
# with the same header and lands in Quarantine too -- delete that test if released mail should
# go to the INBOX. "virus=yes" only ever comes from a trusted relay: relaytrust reads virus
# verdicts from nobody else.
#
# Extensions: fileinto, mailbox (for :create, which makes the folder on first use). Stalwart
# and Dovecot (Pigeonhole) both have them.
require ["fileinto", "mailbox"];

if header :contains "X-Relaytrust-Result" ["; action=quarantine;", "; virus=yes;"] {
    fileinto :create "Quarantine";
    stop;
}
if allof (header :contains "X-Relaytrust-Result" "; trusted=yes;",
          header :contains "X-Relaytrust-Result" "; spam=yes;") {
    fileinto :create "Junk";
    stop;
}
