// Where the Stalwart reference fixtures live (../shared relative to the repository) and how
// to read them. Tests never copy them into the project.
#pragma once

#include <json/json.h>

#include <string>
#include <vector>

namespace relaytrust::hookd::test {

// RELAYTRUST_SHARED_DIR (environment, else the build-time default) + /reference/stalwart-fixtures
std::string fixtures_dir();
bool fixtures_available();
std::string read_file(const std::string& path);
std::string read_fixture(const std::string& relative_path);
Json::Value parse_json(const std::string& text);  // throws on malformed JSON
// Files in fixtures_dir()/derived named request-*.json, sorted.
std::vector<std::string> derived_request_files();

}  // namespace relaytrust::hookd::test
