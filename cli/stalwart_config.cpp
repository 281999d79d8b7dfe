#include "stalwart_config.h"

#include <json/json.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <map>
#include <memory>
#include <string>

#include "policy/policy_loader.h"

namespace relaytrust::cli {

namespace {

constexpr const char* kDefaultUrl = "http://127.0.0.1:8686";
constexpr const char* kDefaultTokenFile = "/etc/relaytrust/hookd.token";
// Stalwart's default timeout is 30 s. Ours: the policy's sender-authentication deadline (the
// longest hookd waits for DNS at end of data) plus this margin, and at least 10 s.
constexpr long long kTimeoutMarginMs = 5'000;
constexpr long long kMinimumTimeoutMs = 10'000;
constexpr long long kStalwartMaxResponseSize = 52'428'800;

struct ConfigOptions {
    std::string policy_file;
    std::string url = kDefaultUrl;
    Json::Value secret;        // SecretKey, or null for Unauthenticated
    long long timeout_ms = 0;  // 0: derived from the policy
    bool allow_invalid_certs = false;
    bool jmap = false;
    std::map<std::string, std::string> stalwart_names;  // policy listener -> Stalwart listener
};

Json::Value secret_key(const char* type, const char* key, const std::string& value) {
    Json::Value secret(Json::objectValue);
    secret["@type"] = type;
    secret[key] = value;
    return secret;
}

// Parses the arguments; returns "" or the error.
std::string parse(const Args& args, ConfigOptions& o) {
    o.secret = secret_key("File", "filePath", kDefaultTokenFile);
    for (std::size_t i = 0; i < args.size(); ++i) {
        const std::string& arg = args[i];
        auto value = [&](std::string& out) {
            if (i + 1 >= args.size()) return false;
            out = args[++i];
            return true;
        };
        std::string v;
        if (arg == "--policy" && value(v)) {
            o.policy_file = v;
        } else if (arg == "--url" && value(v)) {
            if (v.rfind("http://", 0) != 0 && v.rfind("https://", 0) != 0) {
                return "--url: expected http://HOST:PORT or https://HOST:PORT, got '" + v + "'";
            }
            while (!v.empty() && v.back() == '/')
                v.pop_back();
            o.url = v;
        } else if (arg == "--token-file" && value(v)) {
            o.secret = secret_key("File", "filePath", v);
        } else if (arg == "--token-env" && value(v)) {
            o.secret = secret_key("EnvironmentVariable", "variableName", v);
        } else if (arg == "--token" && value(v)) {
            o.secret = secret_key("Value", "secret", v);
        } else if (arg == "--no-auth") {
            o.secret = Json::Value();
        } else if (arg == "--timeout-ms" && value(v)) {
            auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), o.timeout_ms);
            if (ec != std::errc() || end != v.data() + v.size() || o.timeout_ms < 100 ||
                o.timeout_ms > 600'000) {
                return "--timeout-ms: expected 100..600000, got '" + v + "'";
            }
        } else if (arg == "--listener-name" && value(v)) {
            const auto eq = v.find('=');
            if (eq == std::string::npos || eq == 0 || eq + 1 == v.size()) {
                return "--listener-name: expected POLICY_LISTENER=STALWART_LISTENER, got '" + v +
                       "'";
            }
            o.stalwart_names[v.substr(0, eq)] = v.substr(eq + 1);
        } else if (arg == "--allow-invalid-certs") {
            o.allow_invalid_certs = true;
        } else if (arg == "--jmap") {
            o.jmap = true;
        } else {
            return "unknown or incomplete option '" + arg + "'";
        }
    }
    return "";
}

// A Stalwart expression string literal: single-quoted. Names that would need escaping are
// refused rather than guessed at.
bool quotable(const std::string& name) {
    return !name.empty() && name.find_first_of("'\\\r\n") == std::string::npos;
}

Json::Value condition_expression(const std::string& condition) {
    Json::Value expression(Json::objectValue);
    Json::Value branch(Json::objectValue);
    branch["if"] = condition;
    branch["then"] = "true";
    expression["match"]["0"] = branch;  // ordered lists are objects keyed "0", "1", ...
    expression["else"] = "false";
    return expression;
}

Json::Value always_expression() {
    Json::Value expression(Json::objectValue);
    expression["else"] = "true";
    return expression;
}

}  // namespace

std::string stalwart_config_usage() {
    return "usage: relaytrust stalwart-config [--policy FILE] [--url URL]\n"
           "         [--token-file PATH | --token-env NAME | --token TOKEN | --no-auth]\n"
           "         [--timeout-ms MS] [--listener-name POLICY=STALWART]... "
           "[--allow-invalid-certs] [--jmap]\n"
           "Prints one Stalwart 0.16 MtaHook object per policy listener (a JSON array), or with\n"
           "--jmap an x:MtaHook/set request creating them. --url is relaytrust-hookd's base\n"
           "URL (default http://127.0.0.1:8686); each hook gets the listener's hook_path.\n"
           "The token secret is read by Stalwart (default: File /etc/relaytrust/hookd.token).\n"
           "The timeout defaults to the policy's auth deadline_ms + 5000 (at least 10000).\n"
           "Stalwart listener names default to the policy's listener names.\n";
}

int run_stalwart_config(const Args& args, std::ostream& out, std::ostream& err) {
    ConfigOptions options;
    if (std::string error = parse(args, options); !error.empty()) {
        err << "relaytrust stalwart-config: " << error << "\n" << stalwart_config_usage();
        return kExitUsage;
    }
    const std::shared_ptr<const Policy> loaded = load_or_report(options.policy_file, err);
    if (!loaded) return kExitPolicyError;
    const Policy& policy = *loaded;

    auto stalwart_name = [&](const Listener& l) {
        auto it = options.stalwart_names.find(l.name);
        return it == options.stalwart_names.end() ? l.name : it->second;
    };
    for (const auto& [policy_name, ignored] : options.stalwart_names) {
        if (!policy.find_listener(policy_name)) {
            err << "relaytrust stalwart-config: --listener-name: the policy has no listener '"
                << policy_name << "'\n";
            return kExitUsage;
        }
    }
    for (const auto& l : policy.listeners) {
        if (!quotable(stalwart_name(l))) {
            err << "relaytrust stalwart-config: listener name '" << stalwart_name(l)
                << "' cannot be quoted in a Stalwart expression; map it with --listener-name\n";
            return kExitUsage;
        }
    }

    // Every stage the policy decides at, plus data: verdict headers are stripped there on
    // every listener. Stages without rules are left out: each one is a round trip per
    // SMTP command, and hookd replays earlier stages from each request anyway.
    Json::Value stages(Json::objectValue);
    for (std::size_t s = 0; s < kStageCount; ++s) {
        const auto stage = static_cast<Stage>(s);
        if (stage == Stage::Data || policy.uses_stage(stage)) {
            stages[std::string(stage_name(stage))] = true;
        }
    }

    if (options.timeout_ms == 0) {
        options.timeout_ms = std::max<long long>(
            kMinimumTimeoutMs,
            std::chrono::duration_cast<std::chrono::milliseconds>(policy.auth.deadline).count() +
                kTimeoutMarginMs);
    }

    Json::Value hooks(Json::arrayValue);
    for (const auto& listener : policy.listeners) {
        Json::Value hook(Json::objectValue);
        const std::string path =
            listener.match.hook_paths.empty() ? "/hook" : listener.match.hook_paths.front();
        hook["url"] = options.url + path;
        hook["stages"] = stages;
        if (listener.match.is_default) {
            // The default listener takes every Stalwart listener the others do not claim.
            std::string condition;
            for (const auto& other : policy.listeners) {
                if (&other == &listener) continue;
                if (!condition.empty()) condition += " && ";
                condition += "listener != '" + stalwart_name(other) + "'";
            }
            hook["enable"] =
                condition.empty() ? always_expression() : condition_expression(condition);
        } else {
            hook["enable"] = condition_expression("listener == '" + stalwart_name(listener) + "'");
        }
        hook["timeout"] = Json::Int64(options.timeout_ms);
        // Same stance as the listener's on_error: fail closed (451) or open (accept).
        hook["tempFailOnError"] = listener.on_error.action != Action::Accept;
        hook["allowInvalidCerts"] = options.allow_invalid_certs;
        hook["maxResponseSize"] = Json::Int64(kStalwartMaxResponseSize);
        hook["httpHeaders"] = Json::Value(Json::objectValue);
        Json::Value auth(Json::objectValue);
        if (options.secret.isNull()) {
            auth["@type"] = "Unauthenticated";
        } else {
            auth["@type"] = "Bearer";
            auth["bearerToken"] = options.secret;
        }
        hook["httpAuth"] = auth;
        hooks.append(hook);
    }

    Json::Value document = hooks;
    if (options.jmap) {
        Json::Value create(Json::objectValue);
        for (Json::ArrayIndex i = 0; i < hooks.size(); ++i) {
            create["relaytrust-" + policy.listeners[i].name] = hooks[i];
        }
        Json::Value arguments(Json::objectValue);
        arguments["create"] = create;
        Json::Value call(Json::arrayValue);
        call.append("x:MtaHook/set");
        call.append(arguments);
        call.append("c1");
        document = Json::Value(Json::objectValue);
        document["using"].append("urn:ietf:params:jmap:core");
        document["using"].append("urn:stalwart:jmap");
        document["methodCalls"].append(call);
    }
    Json::StreamWriterBuilder writer;
    writer["indentation"] = "  ";
    writer["emitUTF8"] = true;
    std::unique_ptr<Json::StreamWriter>(writer.newStreamWriter())->write(document, &out);
    out << "\n";
    return kExitAccept;
}

}  // namespace relaytrust::cli
