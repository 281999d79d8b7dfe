// relaytrust: the command-line tool — validate policies and dry-run messages.
#include <iostream>
#include <string>

#include "commands.h"
#include "postfix_config.h"
#include "stalwart_config.h"

int main(int argc, char** argv) {
    using namespace relaytrust::cli;
    if (argc < 2) {
        std::cerr << usage_text();
        return kExitUsage;
    }
    const std::string command = argv[1];
    Args args(argv + 2, argv + argc);
    if (command == "check") return run_check(args, std::cout, std::cerr);
    if (command == "test") return run_test(args, std::cout, std::cerr);
    if (command == "stalwart-config") return run_stalwart_config(args, std::cout, std::cerr);
    if (command == "postfix-config") return run_postfix_config(args, std::cout, std::cerr);
    if (command == "default-policy") return run_default_policy(args, std::cout, std::cerr);
    if (command == "--help" || command == "-h" || command == "help") {
        std::cout << usage_text();
        return 0;
    }
    if (command == "--version") {
        std::cout << "relaytrust " << RELAYTRUST_VERSION << "\n";
        return 0;
    }
    std::cerr << "relaytrust: unknown command '" << command << "'\n" << usage_text();
    return kExitUsage;
}
