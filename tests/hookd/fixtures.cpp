#include "fixtures.h"

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <stdexcept>

namespace relaytrust::hookd::test {

std::string fixtures_dir() {
    const char* env = std::getenv("RELAYTRUST_SHARED_DIR");
    std::string shared = env && *env ? env : RELAYTRUST_SHARED_DIR;
    return shared + "/reference/stalwart-fixtures";
}

bool fixtures_available() {
    return std::filesystem::is_regular_file(fixtures_dir() +
                                            "/stalwart-tests-milter-message-modifications.json");
}

std::string read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw std::runtime_error("cannot read " + path);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

std::string read_fixture(const std::string& relative_path) {
    return read_file(fixtures_dir() + "/" + relative_path);
}

Json::Value parse_json(const std::string& text) {
    Json::CharReaderBuilder builder;
    std::unique_ptr<Json::CharReader> reader(builder.newCharReader());
    Json::Value root;
    std::string errors;
    if (!reader->parse(text.data(), text.data() + text.size(), &root, &errors)) {
        throw std::runtime_error("malformed JSON: " + errors);
    }
    return root;
}

std::vector<std::string> derived_request_files() {
    std::vector<std::string> files;
    for (const auto& entry : std::filesystem::directory_iterator(fixtures_dir() + "/derived")) {
        const std::string name = entry.path().filename().string();
        if (name.rfind("request-", 0) == 0 && name.ends_with(".json")) {
            files.push_back(entry.path().string());
        }
    }
    std::sort(files.begin(), files.end());
    return files;
}

}  // namespace relaytrust::hookd::test
