#include "response_validator.h"

#include <json/json.h>

#include <memory>
#include <set>

namespace relaytrust::hookd::test {

namespace {

bool parse_strict(const std::string& body, Json::Value& root, std::string& errors) {
    Json::CharReaderBuilder builder;
    Json::CharReaderBuilder::strictMode(&builder.settings_);
    std::unique_ptr<Json::CharReader> reader(builder.newCharReader());
    return reader->parse(body.data(), body.data() + body.size(), &root, &errors);
}

bool is_integer(const Json::Value& v) {
    return v.type() == Json::intValue || v.type() == Json::uintValue;
}

bool valid_utf8(const std::string& s) {
    std::size_t i = 0;
    while (i < s.size()) {
        const auto c = static_cast<unsigned char>(s[i]);
        std::size_t n = c < 0x80         ? 1
                        : (c >> 5) == 6  ? 2
                        : (c >> 4) == 14 ? 3
                        : (c >> 3) == 30 ? 4
                                         : 0;
        if (n == 0 || i + n > s.size()) return false;
        for (std::size_t k = 1; k < n; ++k) {
            if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return false;
        }
        i += n;
    }
    return true;
}

// An optional member of type T where serde's Option<T> allows null.
template <typename Check>
void optional_nullable(const Json::Value& object, const char* key, const std::string& where,
                       const char* expected, Check ok, std::vector<std::string>& problems) {
    if (!object.isMember(key) || object[key].isNull()) return;
    if (!ok(object[key])) problems.push_back(where + "." + key + ": must be " + expected);
}

void check_parameters(const Json::Value& m, const std::string& where,
                      std::vector<std::string>& problems) {
    if (!m.isMember("parameters")) return;
    const Json::Value& p = m["parameters"];
    if (p.isNull()) {
        problems.push_back(where + ".parameters: null is rejected (omit it or use {})");
        return;
    }
    if (!p.isObject()) {
        problems.push_back(where + ".parameters: must be an object");
        return;
    }
    for (const auto& key : p.getMemberNames()) {
        if (!p[key].isString() && !p[key].isNull()) {
            problems.push_back(where + ".parameters." + key + ": values must be strings or null");
        }
    }
}

void check_modification(const Json::Value& m, const std::string& where,
                        std::vector<std::string>& problems) {
    if (!m.isObject()) {
        problems.push_back(where + ": must be an object");
        return;
    }
    if (!m.isMember("type") || !m["type"].isString()) {
        problems.push_back(where + ".type: required string");
        return;
    }
    const std::string type = m["type"].asString();
    auto need_string = [&](const char* key) {
        if (!m.isMember(key) || !m[key].isString()) {
            problems.push_back(where + "." + key + ": required string for " + type);
        }
    };
    auto need_index = [&] {
        if (!m.isMember("index") || !is_integer(m["index"]) || !m["index"].isUInt()) {
            problems.push_back(where + ".index: required integer 0..4294967295 for " + type);
        }
    };
    if (type == "changeFrom" || type == "addRecipient") {
        need_string("value");
        check_parameters(m, where, problems);
    } else if (type == "deleteRecipient" || type == "replaceContents") {
        need_string("value");
    } else if (type == "addHeader") {
        need_string("name");
        need_string("value");
    } else if (type == "insertHeader" || type == "changeHeader") {
        need_index();
        need_string("name");
        need_string("value");
    } else if (type == "deleteHeader") {
        need_index();
        need_string("name");
    } else {
        problems.push_back(where + ".type: '" + type +
                           "' is not one of changeFrom, addRecipient, deleteRecipient, "
                           "replaceContents, addHeader, insertHeader, changeHeader, deleteHeader");
    }
}

}  // namespace

std::vector<std::string> stalwart_response_problems(const std::string& body) {
    std::vector<std::string> problems;
    if (!valid_utf8(body)) problems.push_back("body is not valid UTF-8");
    Json::Value root;
    std::string errors;
    if (!parse_strict(body, root, errors)) {
        problems.push_back("not JSON: " + errors);
        return problems;
    }
    if (!root.isObject()) {
        problems.push_back("response must be a JSON object");
        return problems;
    }
    static const std::set<std::string> kActions = {"accept", "discard", "reject", "quarantine"};
    if (!root.isMember("action") || !root["action"].isString() ||
        !kActions.count(root["action"].asString())) {
        problems.push_back("action: required, exactly accept|discard|reject|quarantine");
    }
    if (root.isMember("response") && !root["response"].isNull()) {
        const Json::Value& r = root["response"];
        if (!r.isObject()) {
            problems.push_back("response: must be an object or null");
        } else {
            optional_nullable(
                r, "status", "response", "an integer 0..65535",
                [](const Json::Value& v) {
                    return is_integer(v) && v.isUInt() && v.asUInt() <= 65535;
                },
                problems);
            optional_nullable(
                r, "enhanced_status", "response", "a string",
                [](const Json::Value& v) { return v.isString(); }, problems);
            optional_nullable(
                r, "message", "response", "a string",
                [](const Json::Value& v) { return v.isString(); }, problems);
            if (r.isMember("disconnect") && !r["disconnect"].isBool()) {
                problems.push_back("response.disconnect: must be a boolean when present");
            }
            if (r.isMember("enhancedStatus")) {
                problems.push_back(
                    "response.enhancedStatus: ignored by Stalwart (the key is enhanced_status)");
            }
        }
    }
    if (root.isMember("modifications")) {
        const Json::Value& mods = root["modifications"];
        if (!mods.isArray()) {
            problems.push_back("modifications: must be an array when present (null is rejected)");
        } else {
            for (Json::ArrayIndex i = 0; i < mods.size(); ++i) {
                check_modification(mods[i], "modifications[" + std::to_string(i) + "]", problems);
            }
        }
    }
    return problems;
}

std::vector<std::string> relaytrust_response_problems(const std::string& body) {
    std::vector<std::string> problems = stalwart_response_problems(body);
    if (!problems.empty()) return problems;
    Json::Value root;
    std::string errors;
    parse_strict(body, root, errors);
    const std::string action = root["action"].asString();
    if (action == "quarantine") {
        problems.push_back(
            "action quarantine: Stalwart drops the message; relaytrust never sends it");
    }
    const Json::Value& r = root["response"];
    if (action == "reject") {
        if (!r.isObject() || !r["status"].isUInt() || !r["message"].isString()) {
            problems.push_back("reject without status and message: Stalwart would say 503 5.5.3");
        } else {
            const unsigned status = r["status"].asUInt();
            if (status < 400 || status > 599) {
                problems.push_back("reject with status " + std::to_string(status));
            }
            if (r.isMember("enhanced_status") && r["enhanced_status"].isString()) {
                const std::string enhanced = r["enhanced_status"].asString();
                if (enhanced.empty() || enhanced[0] != static_cast<char>('0' + status / 100)) {
                    problems.push_back("enhanced_status class differs from status");
                }
            }
        }
    }
    if (r.isObject() && r["message"].isString()) {
        const std::string message = r["message"].asString();
        if (message.find_first_of("\r\n") != std::string::npos) {
            problems.push_back("response.message contains CR or LF (corrupts the SMTP reply)");
        }
    }
    if (action != "accept" && root.isMember("modifications") && !root["modifications"].empty()) {
        problems.push_back("modifications with a non-accept action are dropped by Stalwart");
    }
    return problems;
}

}  // namespace relaytrust::hookd::test
