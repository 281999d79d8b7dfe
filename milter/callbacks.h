// The libmilter callback table. Each xxfi_* callback only translates: MTA facts go into the
// connection's Transaction, the engine decides, verdict_reply.h answers the MTA.
#pragma once

#include <libmilter/mfapi.h>

#include "policy_holder.h"

namespace relaytrust::milter {

// The filter description for smfi_register. `policy` must outlive smfi_main().
smfiDesc filter_description(PolicyHolder& policy);

}  // namespace relaytrust::milter
