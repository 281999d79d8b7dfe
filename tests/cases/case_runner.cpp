// Runs one data-driven case: NAME.expect describes the session and what must come out when
// NAME.eml goes through `relaytrust test`. Expectation lines ('#' starts a comment):
//   args: <relaytrust test options, whitespace-separated>
//   policy: <file relative to the case directory>   (default: the embedded policy)
//   dns-zone: <YAML zone file relative to the case directory> (default: zones/default.yml)
//   action: accept|reject|tempfail|discard|quarantine
//   rule: <name of the deciding rule, or "none">
//   report: <text the printed report must contain>        (repeatable)
//   no-report: <text the printed report must not contain> (repeatable)
//   header: <Name>: <text an instance of Name must contain, unfolded> (repeatable)
//   no-header: <Name>                                      (repeatable)
//   count: <Name> <N>                                      (repeatable)
//   first-header: <Name>          the resulting message's first header is Name
// Exit status 0 when every expectation holds; otherwise every failed one is printed.
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "commands.h"
#include "headers/verdict_header_parser.h"
#include "message_file.h"

namespace fs = std::filesystem;
using relaytrust::headers::iequals;
using relaytrust::headers::unfold;

namespace {

std::string trim(std::string s) {
    auto first = s.find_first_not_of(" \t");
    auto last = s.find_last_not_of(" \t\r");
    return first == std::string::npos ? "" : s.substr(first, last - first + 1);
}

std::vector<std::string> split_words(const std::string& s) {
    std::istringstream in(s);
    std::vector<std::string> out;
    for (std::string w; in >> w;)
        out.push_back(w);
    return out;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 2) {
        std::cerr << "usage: relaytrust_case_runner CASE.expect\n";
        return 2;
    }
    const fs::path expect_path = argv[1];
    fs::path eml_path = expect_path;
    eml_path.replace_extension(".eml");
    std::ifstream expect(expect_path);
    if (!expect) {
        std::cerr << "cannot read " << expect_path << "\n";
        return 2;
    }

    std::vector<std::string> args;
    std::string want_action, want_rule;
    std::vector<std::string> reports, no_reports, no_headers;
    std::vector<std::pair<std::string, std::string>> want_headers;
    std::vector<std::pair<std::string, int>> counts;
    std::string first_header;
    std::string dns_zone = (expect_path.parent_path() / "zones" / "default.yml").string();
    std::string line;
    int lineno = 0;
    while (std::getline(expect, line)) {
        ++lineno;
        line = trim(line);
        if (line.empty() || line[0] == '#') continue;
        auto colon = line.find(':');
        if (colon == std::string::npos) {
            std::cerr << expect_path << ":" << lineno << ": expected 'key: value'\n";
            return 2;
        }
        const std::string key = line.substr(0, colon);
        const std::string value = trim(line.substr(colon + 1));
        if (key == "args") {
            for (auto& w : split_words(value))
                args.push_back(w);
        } else if (key == "policy") {
            args.push_back("--policy");
            args.push_back((expect_path.parent_path() / value).string());
        } else if (key == "dns-zone") {
            dns_zone = (expect_path.parent_path() / value).string();
        } else if (key == "action") {
            want_action = value;
        } else if (key == "rule") {
            want_rule = value;
        } else if (key == "report") {
            reports.push_back(value);
        } else if (key == "no-report") {
            no_reports.push_back(value);
        } else if (key == "header") {
            auto c = value.find(':');
            if (c == std::string::npos) {
                std::cerr << expect_path << ":" << lineno << ": header: expected 'Name: text'\n";
                return 2;
            }
            want_headers.emplace_back(trim(value.substr(0, c)), trim(value.substr(c + 1)));
        } else if (key == "no-header") {
            no_headers.push_back(value);
        } else if (key == "count") {
            auto words = split_words(value);
            if (words.size() != 2) {
                std::cerr << expect_path << ":" << lineno << ": count: expected 'Name N'\n";
                return 2;
            }
            counts.emplace_back(words[0], std::stoi(words[1]));
        } else if (key == "first-header") {
            first_header = value;
        } else {
            std::cerr << expect_path << ":" << lineno << ": unknown key '" << key << "'\n";
            return 2;
        }
    }
    if (want_action.empty()) {
        std::cerr << expect_path << ": no 'action:' expectation\n";
        return 2;
    }

    const fs::path out_path =
        fs::temp_directory_path() / ("relaytrust-case-" + std::to_string(::getpid()) + ".eml");
    fs::remove(out_path);
    args.push_back("--dns-zone");
    args.push_back(dns_zone);
    args.push_back("--output");
    args.push_back(out_path.string());
    args.push_back(eml_path.string());

    std::ostringstream report, errors;
    const int code = relaytrust::cli::run_test(args, report, errors);
    std::vector<std::string> failures;

    relaytrust::Action want;
    if (!relaytrust::parse_action(want_action, want)) {
        std::cerr << expect_path << ": unknown action '" << want_action << "'\n";
        return 2;
    }
    if (code != relaytrust::cli::exit_code_for(want)) {
        failures.push_back("exit code " + std::to_string(code) + ", expected " +
                           std::to_string(relaytrust::cli::exit_code_for(want)) + " (" +
                           want_action + ")");
    }
    const std::string text = report.str();
    if (!want_rule.empty()) {
        const std::string needle =
            want_rule == "none" ? "no rule matched" : "rule '" + want_rule + "' matched";
        if (text.find(needle) == std::string::npos) failures.push_back("report lacks: " + needle);
    }
    for (const auto& r : reports) {
        if (text.find(r) == std::string::npos) failures.push_back("report lacks: " + r);
    }
    for (const auto& r : no_reports) {
        if (text.find(r) != std::string::npos) failures.push_back("report contains: " + r);
    }

    const bool kept = want == relaytrust::Action::Accept || want == relaytrust::Action::Quarantine;
    const bool needs_message =
        !want_headers.empty() || !no_headers.empty() || !counts.empty() || !first_header.empty();
    if (needs_message && !kept) failures.push_back("header expectations on a refused message");
    if (needs_message && kept) {
        relaytrust::cli::MessageFile result(out_path.string());
        if (!result.ok()) {
            failures.push_back("no resulting message: " + result.error());
        } else {
            const auto& hs = result.headers();
            for (const auto& [name, needle] : want_headers) {
                bool found = false;
                for (const auto& h : hs) {
                    if (iequals(h.name, name) &&
                        unfold(h.raw_value).find(needle) != std::string::npos) {
                        found = true;
                    }
                }
                if (!found)
                    failures.push_back("no header " + name + " containing '" + needle + "'");
            }
            for (const auto& name : no_headers) {
                for (const auto& h : hs) {
                    if (iequals(h.name, name)) {
                        failures.push_back("header present: " + name + ":" + unfold(h.raw_value));
                    }
                }
            }
            for (const auto& [name, n] : counts) {
                int seen = 0;
                for (const auto& h : hs)
                    seen += iequals(h.name, name) ? 1 : 0;
                if (seen != n) {
                    failures.push_back("count of " + name + " is " + std::to_string(seen) +
                                       ", expected " + std::to_string(n));
                }
            }
            if (!first_header.empty() && (hs.empty() || !iequals(hs.front().name, first_header))) {
                failures.push_back("first header is not " + first_header);
            }
        }
    }
    fs::remove(out_path);

    if (failures.empty()) {
        std::cout << "PASS " << expect_path.stem().string() << "\n";
        return 0;
    }
    std::cout << "FAIL " << expect_path.stem().string() << "\n";
    for (const auto& f : failures)
        std::cout << "  - " << f << "\n";
    std::cout << "--- report ---\n" << text << errors.str();
    return 1;
}
