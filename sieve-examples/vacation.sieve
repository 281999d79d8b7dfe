# relaytrust: an out-of-office reply that never answers spam, viruses or unchecked mail.
#
# An auto-reply to spam goes to a forged sender (backscatter) and confirms the address to the
# spammer. This script replies only to mail the trusted relay checked and called ham
# ("trusted=yes; ... spam=no"), never to quarantined mail or viruses, and never to mailing
# lists or other automatic mail. Mail from outside the relay (trusted=no: relaytrust cannot
# vouch for it) gets no reply either; relax the first test if your users want one.
#
# Extensions: vacation. Stalwart and Dovecot (Pigeonhole) both have it.
require ["vacation"];

if not allof (header :contains "X-Relaytrust-Result" "; trusted=yes;",
              header :contains "X-Relaytrust-Result" "; spam=no;") {
    stop;
}
if header :contains "X-Relaytrust-Result" ["; action=quarantine;", "; virus=yes;"] {
    stop;
}
# Lists, bulk mail and automatic replies (Pigeonhole checks most of these itself; Stalwart
# and other interpreters may not).
if anyof (exists ["List-Id", "List-Post", "List-Unsubscribe"],
          header :is "Precedence" ["bulk", "list", "junk"],
          allof (exists "Auto-Submitted", not header :is "Auto-Submitted" "no")) {
    stop;
}

vacation :days 7 :subject "Out of office"
"I am away until Monday and will read your message when I am back.";
