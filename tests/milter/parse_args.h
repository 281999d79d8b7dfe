// relaytrust-milter's option parser driven from a list of arguments, for unit tests.
#pragma once

#include <string>
#include <vector>

#include "options.h"

namespace relaytrust::milter::testing {

// args: the arguments after the program name.
inline ParseResult parse(std::vector<std::string> args) {
    args.insert(args.begin(), "relaytrust-milter");
    std::vector<char*> argv;
    for (auto& a : args)
        argv.push_back(a.data());
    return parse_options(static_cast<int>(argv.size()), argv.data());
}

}  // namespace relaytrust::milter::testing
