#include "policy/policy_loader.h"

#include <json/json.h>
#include <unistd.h>

#include <algorithm>
#include <climits>
#include <cstring>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>

#include "engine/variables.h"
#include "headers/verdict_header_parser.h"

namespace relaytrust {

std::string PolicyError::to_string() const {
    std::string out = file;
    if (line > 0) out += ":" + std::to_string(line) + ":" + std::to_string(column);
    out += ": " + message;
    return out;
}

std::string PolicyLoadResult::error_text() const {
    std::string out;
    for (const auto& e : errors)
        out += e.to_string() + "\n";
    return out;
}

std::string system_hostname() {
    char buf[HOST_NAME_MAX + 1] = {};
    if (gethostname(buf, sizeof buf - 1) != 0 || buf[0] == '\0') return "localhost";
    return buf;
}

namespace {

// Walks the JSON tree, reporting errors at the position of the offending value.
class Loader {
  public:
    Loader(std::string_view text, std::string source) : text_(text), source_(std::move(source)) {}

    PolicyLoadResult run() {
        PolicyLoadResult result;
        Json::Value root;
        if (!parse_json(root)) {
            result.errors = std::move(errors_);
            return result;
        }
        auto policy = std::make_shared<Policy>();
        policy->source = source_;
        load_root(root, *policy);
        if (!errors_.empty()) {
            result.errors = std::move(errors_);
            return result;
        }
        result.policy = std::move(policy);
        return result;
    }

  private:
    std::string_view text_;
    std::string source_;
    std::vector<PolicyError> errors_;
    Policy* policy_ = nullptr;

    // --- positions -------------------------------------------------------------------------

    void error_at_offset(std::size_t offset, std::string message) {
        PolicyError e{source_, 1, 1, std::move(message)};
        offset = std::min(offset, text_.size());
        for (std::size_t i = 0; i < offset; ++i) {
            if (text_[i] == '\n') {
                ++e.line;
                e.column = 1;
            } else {
                ++e.column;
            }
        }
        errors_.push_back(std::move(e));
    }

    void error(const Json::Value& at, std::string message) {
        error_at_offset(static_cast<std::size_t>(at.getOffsetStart()), std::move(message));
    }

    bool parse_json(Json::Value& root) {
        Json::CharReaderBuilder builder;
        builder["allowComments"] = true;
        builder["allowTrailingCommas"] = false;
        builder["strictRoot"] = true;
        builder["rejectDupKeys"] = true;
        builder["allowSpecialFloats"] = false;
        builder["failIfExtra"] = true;
        std::unique_ptr<Json::CharReader> reader(builder.newCharReader());
        std::string errs;
        if (reader->parse(text_.data(), text_.data() + text_.size(), &root, &errs)) return true;
        // jsoncpp formats errors as "* Line N, Column M\n  message\n"; keep every one.
        static const std::regex kErr(R"(\* Line (\d+), Column (\d+)\n\s*([^\n]*))");
        bool any = false;
        for (std::sregex_iterator it(errs.begin(), errs.end(), kErr), end; it != end; ++it) {
            errors_.push_back({source_, std::stoi((*it)[1]), std::stoi((*it)[2]),
                               "invalid JSON: " + (*it)[3].str()});
            any = true;
        }
        if (!any) errors_.push_back({source_, 0, 0, "invalid JSON: " + errs});
        return false;
    }

    // --- shape checks ----------------------------------------------------------------------

    bool expect_object(const Json::Value& v, std::string_view what) {
        if (v.isObject()) return true;
        error(v, std::string(what) + ": expected an object");
        return false;
    }

    // Reports every key that is not allowed. Returns false when any was found.
    void check_keys(const Json::Value& obj, std::string_view what,
                    std::initializer_list<std::string_view> allowed) {
        for (const auto& key : obj.getMemberNames()) {
            if (std::find(allowed.begin(), allowed.end(), key) != allowed.end()) continue;
            std::string list;
            for (auto a : allowed)
                list += (list.empty() ? "" : ", ") + std::string(a);
            error(obj[key], std::string(what) + ": unknown key '" + key +
                                "' (expected one of: " + list + ")");
        }
    }

    std::optional<std::string> get_string(const Json::Value& v, std::string_view what) {
        if (v.isString()) return v.asString();
        error(v, std::string(what) + ": expected a string");
        return std::nullopt;
    }

    std::optional<bool> get_bool(const Json::Value& v, std::string_view what) {
        if (v.isBool()) return v.asBool();
        error(v, std::string(what) + ": expected true or false");
        return std::nullopt;
    }

    // A string or a list of strings.
    std::vector<std::string> get_string_list(const Json::Value& v, std::string_view what) {
        std::vector<std::string> out;
        if (v.isString()) {
            out.push_back(v.asString());
        } else if (v.isArray()) {
            for (const auto& item : v) {
                if (auto s = get_string(item, what)) out.push_back(*s);
            }
        } else {
            error(v, std::string(what) + ": expected a string or a list of strings");
        }
        return out;
    }

    // --- sections --------------------------------------------------------------------------

    void load_root(const Json::Value& root, Policy& policy) {
        policy_ = &policy;
        if (!expect_object(root, "policy")) return;
        check_keys(root, "policy",
                   {"hostname", "networks", "constants", "listeners", "rules", "result_header",
                    "extra_verdict_headers", "auth"});
        policy.system_hostname = system_hostname();
        if (root.isMember("hostname")) {
            if (auto h = get_string(root["hostname"], "hostname"); h && !h->empty()) {
                policy.hostname = *h;
            }
        }
        if (root.isMember("networks")) load_networks(root["networks"], policy);
        if (root.isMember("constants")) load_constants(root["constants"], policy);
        if (root.isMember("result_header")) load_result_header(root["result_header"], policy);
        if (root.isMember("extra_verdict_headers")) {
            for (auto& name :
                 get_string_list(root["extra_verdict_headers"], "extra_verdict_headers")) {
                policy.extra_verdict_headers.push_back(name);
            }
        }
        if (!root.isMember("listeners")) {
            error(root, "policy: missing key 'listeners'");
        } else {
            load_listeners(root["listeners"], policy);
        }
        if (root.isMember("rules")) load_rules(root["rules"], policy);
        if (root.isMember("auth")) load_auth(root["auth"], policy);
    }

    // Mode values can only be checked when constant: a match expression is checked at run
    // time (an unknown mode there counts as "disable" and is logged by the engine).
    void check_mode_constant(const Json::Value& v, const std::string& what) {
        if (!v.isString()) return;
        const std::string text = v.asString();
        if (text.size() >= 2 && text.front() == '\'' && text.back() == '\'') {
            AuthMode mode;
            if (!parse_auth_mode(text.substr(1, text.size() - 2), mode)) {
                error(v, what + ": expected 'disable', 'relaxed', 'strict' or 'origin'");
            }
        }
    }

    void load_auth(const Json::Value& v, Policy& policy) {
        AuthSettings& a = policy.auth;
        if (!expect_object(v, "auth")) return;
        check_keys(v, "auth",
                   {"spfVerify", "dkimVerify", "dmarcVerify", "authserv_id", "trusted_authserv_ids",
                    "origin_hops", "dmarc_discovery", "dns", "deadline_ms", "on_temperror",
                    "spf_fail_reply", "dmarc_reject_reply"});
        const std::pair<const char*, PolicyExpression*> modes[] = {
            {"spfVerify", &a.spf_verify},
            {"dkimVerify", &a.dkim_verify},
            {"dmarcVerify", &a.dmarc_verify}};
        for (const auto& [key, target] : modes) {
            if (!v.isMember(key)) continue;
            const Json::Value& m = v[key];
            if (m.isString() && !m.asString().empty() && m.asString().front() != '\'') {
                AuthMode mode;
                if (parse_auth_mode(m.asString(), mode)) {
                    // A bare word like "relaxed" is accepted for convenience.
                    target->otherwise =
                        expr::Expression::constant(expr::Value::owned(m.asString()));
                    continue;
                }
            }
            check_mode_constant(m, std::string("auth.") + key);
            if (m.isObject()) {
                for (const auto& item : m["match"]) {
                    if (item.isObject())
                        check_mode_constant(item["then"], std::string("auth.") + key);
                }
                check_mode_constant(m["else"], std::string("auth.") + key);
            }
            if (auto e = compile_policy_expression(m, std::string("auth.") + key)) {
                *target = std::move(*e);
            }
        }
        if (v.isMember("authserv_id")) {
            if (auto s = get_string(v["authserv_id"], "auth.authserv_id")) a.authserv_id = *s;
        }
        if (v.isMember("trusted_authserv_ids")) {
            a.trusted_authserv_ids =
                get_string_list(v["trusted_authserv_ids"], "auth.trusted_authserv_ids");
            for (auto& id : a.trusted_authserv_ids) {
                std::transform(id.begin(), id.end(), id.begin(),
                               [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
            }
        }
        if (v.isMember("origin_hops")) {
            const Json::Value& h = v["origin_hops"];
            if (!h.isUInt() || h.asUInt() < 1 || h.asUInt() > 10) {
                error(h, "auth.origin_hops: expected a number from 1 to 10");
            } else {
                a.origin_hops = h.asUInt();
            }
        }
        if (v.isMember("dmarc_discovery")) {
            auto d = get_string(v["dmarc_discovery"], "auth.dmarc_discovery");
            if (d && *d == "psl") {
                a.dmarc_public_suffix_list = true;
            } else if (d && *d != "tree-walk") {
                error(v["dmarc_discovery"],
                      "auth.dmarc_discovery: expected \"tree-walk\" (RFC 9989) or \"psl\" "
                      "(RFC 7489)");
            }
        }
        if (v.isMember("dns")) {
            const Json::Value& d = v["dns"];
            if (expect_object(d, "auth.dns")) {
                check_keys(d, "auth.dns", {"forwarder", "timeout_ms"});
                if (d.isMember("forwarder")) {
                    if (auto f = get_string(d["forwarder"], "auth.dns.forwarder")) {
                        a.dns_forwarder = *f;
                    }
                }
                if (d.isMember("timeout_ms")) {
                    if (auto ms = get_millis(d["timeout_ms"], "auth.dns.timeout_ms")) {
                        a.dns_timeout = *ms;
                    }
                }
            }
        }
        if (v.isMember("deadline_ms")) {
            if (auto ms = get_millis(v["deadline_ms"], "auth.deadline_ms")) a.deadline = *ms;
        }
        if (v.isMember("on_temperror")) {
            load_failure_mode(v["on_temperror"], "auth.on_temperror", a.on_temperror);
        }
        if (v.isMember("spf_fail_reply")) {
            if (auto r = load_reply(v["spf_fail_reply"], "auth.spf_fail_reply", Action::Reject)) {
                a.spf_fail_reply = *r;
            }
        }
        if (v.isMember("dmarc_reject_reply")) {
            if (auto r = load_reply(v["dmarc_reject_reply"], "auth.dmarc_reject_reply",
                                    Action::Reject)) {
                a.dmarc_reject_reply = *r;
            }
        }
    }

    std::optional<std::chrono::milliseconds> get_millis(const Json::Value& v,
                                                        const std::string& what) {
        if (!v.isUInt() || v.asUInt() < 1 || v.asUInt() > 600000) {
            error(v, what + ": expected milliseconds from 1 to 600000");
            return std::nullopt;
        }
        return std::chrono::milliseconds(v.asUInt());
    }

    void load_networks(const Json::Value& v, Policy& policy) {
        if (!expect_object(v, "networks")) return;
        for (const auto& name : v.getMemberNames()) {
            const Json::Value& list = v[name];
            const std::string what = "networks." + name;
            if (!list.isArray()) {
                error(list, what + ": expected a list of CIDR strings such as \"10.0.0.0/8\"");
                continue;
            }
            net::NetworkSet set;
            std::vector<std::string> entries;
            for (const auto& item : list) {
                auto entry = get_string(item, what);
                if (!entry) continue;
                if (std::string err = set.add(*entry); !err.empty()) error(item, what + ": " + err);
                entries.push_back(*entry);
            }
            policy.networks.emplace(name, std::move(set));
            policy.network_entries.emplace(name, std::move(entries));
        }
    }

    void load_constants(const Json::Value& v, Policy& policy) {
        if (!expect_object(v, "constants")) return;
        for (const auto& name : v.getMemberNames()) {
            const Json::Value& c = v[name];
            if (variable_by_name(name)) {
                error(c, "constants." + name + ": '" + name + "' is a built-in variable");
                continue;
            }
            if (!valid_identifier(name)) {
                error(c, "constants." + name +
                             ": a constant name must be letters, digits and '_' (not first a "
                             "digit)");
                continue;
            }
            if (c.isBool()) {
                policy.constants.emplace(name, expr::Value(c.asBool()));
            } else if (c.isInt64()) {
                policy.constants.emplace(name, expr::Value(static_cast<std::int64_t>(c.asInt64())));
            } else if (c.isDouble()) {
                policy.constants.emplace(name, expr::Value(c.asDouble()));
            } else if (c.isString()) {
                policy.constants.emplace(name, expr::Value::owned(c.asString()));
            } else {
                error(c, "constants." + name + ": expected a number, string or boolean");
            }
        }
    }

    static bool valid_identifier(std::string_view s) {
        if (s.empty() || std::isdigit(static_cast<unsigned char>(s[0]))) return false;
        return std::all_of(s.begin(), s.end(), [](char ch) {
            return std::isalnum(static_cast<unsigned char>(ch)) || ch == '_';
        });
    }

    void load_result_header(const Json::Value& v, Policy& policy) {
        if (!expect_object(v, "result_header")) return;
        check_keys(v, "result_header", {"name", "enabled"});
        if (v.isMember("name")) {
            if (auto n = get_string(v["name"], "result_header.name")) {
                if (!valid_header_name(*n)) {
                    error(v["name"], "result_header.name: not a valid header field name");
                } else {
                    policy.result_header.name = *n;
                }
            }
        }
        if (v.isMember("enabled")) {
            if (auto b = get_bool(v["enabled"], "result_header.enabled")) {
                policy.result_header.enabled = *b;
            }
        }
    }

    static bool valid_header_name(std::string_view n) {
        if (n.empty()) return false;
        return std::all_of(n.begin(), n.end(),
                           [](char ch) { return ch > 32 && ch < 127 && ch != ':'; });
    }

    void load_listeners(const Json::Value& v, Policy& policy) {
        if (!v.isArray() || v.empty()) {
            error(v, "listeners: expected a non-empty list of listener objects");
            return;
        }
        int defaults = 0;
        for (const auto& item : v) {
            if (!expect_object(item, "listener")) continue;
            Listener listener;
            if (!item.isMember("name")) {
                error(item, "listener: missing key 'name'");
                continue;
            }
            if (auto n = get_string(item["name"], "listener.name")) listener.name = *n;
            const std::string what = "listener '" + listener.name + "'";
            check_keys(item, what, {"name", "match", "relays", "on_error", "proxy_protocol"});
            if (policy.find_listener(listener.name)) {
                error(item["name"], what + ": defined twice");
            }
            if (item.isMember("match")) load_listener_match(item["match"], what, listener.match);
            if (listener.match.is_default) ++defaults;
            if (item.isMember("relays")) load_relays(item["relays"], what, listener);
            if (item.isMember("on_error")) {
                load_failure_mode(item["on_error"], what + ".on_error", listener.on_error);
            }
            if (item.isMember("proxy_protocol")) load_proxy_protocol(item, what, listener);
            policy.listeners.push_back(std::move(listener));
        }
        if (defaults != 1) {
            error(v,
                  "listeners: exactly one listener needs \"match\": {\"default\": true} "
                  "(found " +
                      std::to_string(defaults) + ")");
        }
    }

    // "proxy_protocol": "haproxy" — the MTA service behind this listener takes connections
    // through a PROXY-protocol proxy. The MTA then reports the proxied destination as the local
    // address (Postfix {daemon_addr}/{daemon_port}), so such a listener cannot be recognised by
    // local_port: it needs a daemon_name (or hook_path), unless it is the default listener.
    void load_proxy_protocol(const Json::Value& item, const std::string& what, Listener& listener) {
        const Json::Value& v = item["proxy_protocol"];
        auto p = get_string(v, what + ".proxy_protocol");
        if (!p) return;
        if (*p != "haproxy") {
            error(v, what + ".proxy_protocol: expected \"haproxy\" (the PROXY protocol, v1 or v2)");
            return;
        }
        listener.proxy_protocol = *p;
        const ListenerMatch& m = listener.match;
        if (!m.is_default && m.daemon_names.empty() && m.hook_paths.empty()) {
            error(v, what +
                         ": behind the PROXY protocol the local address and port are the proxied "
                         "destination, so this listener cannot be recognised by local_port; give "
                         "it a daemon_name");
        }
    }

    void load_listener_match(const Json::Value& v, const std::string& what, ListenerMatch& m) {
        if (!expect_object(v, what + ".match")) return;
        check_keys(v, what + ".match",
                   {"daemon_name", "local_port", "local_ip", "hook_path", "default"});
        if (v.isMember("daemon_name")) {
            m.daemon_names = get_string_list(v["daemon_name"], what + ".match.daemon_name");
        }
        if (v.isMember("local_ip")) {
            m.local_ips = get_string_list(v["local_ip"], what + ".match.local_ip");
            for (const auto& ip : m.local_ips) {
                if (!net::IpAddress::parse(ip)) {
                    error(v["local_ip"],
                          what + ".match.local_ip: '" + ip + "' is not an IP address");
                }
            }
        }
        if (v.isMember("hook_path")) {
            m.hook_paths = get_string_list(v["hook_path"], what + ".match.hook_path");
            for (const auto& p : m.hook_paths) {
                if (p.empty() || p[0] != '/') {
                    error(v["hook_path"],
                          what + ".match.hook_path: '" + p + "' must start with '/'");
                }
            }
        }
        if (v.isMember("local_port")) {
            const Json::Value& ports = v["local_port"];
            auto add_port = [&](const Json::Value& p) {
                if (!p.isUInt() || p.asUInt() == 0 || p.asUInt() > 65535) {
                    error(p, what + ".match.local_port: expected a port number 1-65535");
                    return;
                }
                m.local_ports.push_back(static_cast<std::uint16_t>(p.asUInt()));
            };
            if (ports.isArray()) {
                for (const auto& p : ports)
                    add_port(p);
            } else {
                add_port(ports);
            }
        }
        if (v.isMember("default")) {
            if (auto b = get_bool(v["default"], what + ".match.default")) m.is_default = *b;
        }
    }

    void load_relays(const Json::Value& v, const std::string& what, Listener& listener) {
        if (!v.isArray()) {
            error(v, what + ".relays: expected a list of relay objects");
            return;
        }
        for (const auto& item : v) {
            if (!expect_object(item, what + ".relays[]")) continue;
            check_keys(item, what + ".relays[]", {"name", "network", "verdict_position"});
            TrustedRelay relay;
            if (!item.isMember("name") || !item.isMember("network")) {
                error(item, what + ".relays[]: 'name' and 'network' are required");
                continue;
            }
            if (auto n = get_string(item["name"], what + ".relays[].name")) relay.name = *n;
            if (auto n = get_string(item["network"], what + ".relays[].network")) {
                relay.network_name = *n;
                auto it = policy_->networks.find(*n);
                if (it == policy_->networks.end()) {
                    error(item["network"], what + ".relays[].network: no network set named '" + *n +
                                               "' in \"networks\"");
                } else {
                    relay.network = &it->second;
                }
            }
            if (item.isMember("verdict_position")) {
                if (auto p =
                        get_string(item["verdict_position"], what + ".relays[].verdict_position")) {
                    if (*p == "above-received") {
                        relay.position = VerdictPosition::AboveReceived;
                    } else if (*p == "last-instance") {
                        relay.position = VerdictPosition::LastInstance;
                    } else {
                        error(item["verdict_position"],
                              what +
                                  ".relays[].verdict_position: expected \"above-received\" or "
                                  "\"last-instance\"");
                    }
                }
            }
            listener.relays.push_back(std::move(relay));
        }
    }

    std::optional<SmtpReply> load_reply(const Json::Value& v, const std::string& what,
                                        Action action) {
        if (!expect_object(v, what)) return std::nullopt;
        check_keys(v, what, {"code", "enhanced", "text"});
        SmtpReply reply = default_reply(action);
        if (v.isMember("code")) {
            if (!v["code"].isInt()) {
                error(v["code"], what + ".code: expected a 3-digit SMTP reply code");
                return std::nullopt;
            }
            reply.code = v["code"].asInt();
            // A new code makes the default enhanced status wrong; derive its class.
            if (!reply.enhanced.empty())
                reply.enhanced[0] = static_cast<char>('0' + reply.code / 100);
        }
        if (v.isMember("enhanced")) {
            if (auto s = get_string(v["enhanced"], what + ".enhanced")) reply.enhanced = *s;
        }
        if (v.isMember("text")) {
            if (auto s = get_string(v["text"], what + ".text")) reply.text = *s;
        }
        if (std::string err = validate_reply(action, reply); !err.empty()) {
            error(v, what + ": " + err);
            return std::nullopt;
        }
        return reply;
    }

    void load_failure_mode(const Json::Value& v, const std::string& where, FailureMode& mode) {
        if (!expect_object(v, where)) return;
        check_keys(v, where, {"action", "reply"});
        if (v.isMember("action")) {
            auto a = get_string(v["action"], where + ".action");
            if (a && *a == "tempfail") {
                mode.action = Action::Tempfail;
            } else if (a && *a == "accept") {
                mode.action = Action::Accept;
                mode.reply = default_reply(Action::Accept);
            } else if (a) {
                error(v["action"], where +
                                       ".action: expected \"tempfail\" (fail closed) or "
                                       "\"accept\" (fail open)");
            }
        }
        if (v.isMember("reply")) {
            if (auto r = load_reply(v["reply"], where + ".reply", mode.action)) {
                mode.reply = *r;
            }
        }
    }

    // --- expressions -----------------------------------------------------------------------

    expr::Symbols symbols() const {
        expr::Symbols s;
        const Policy* policy = policy_;
        s.variable = [policy](std::string_view name) -> std::optional<expr::VariableId> {
            if (auto v = variable_by_name(name)) return static_cast<expr::VariableId>(*v);
            auto it = policy->constants.find(name);
            if (it == policy->constants.end()) return std::nullopt;
            return static_cast<expr::VariableId>(kFirstConstantId +
                                                 std::distance(policy->constants.begin(), it));
        };
        s.network = [policy](std::string_view name) -> const net::NetworkSet* {
            auto it = policy->networks.find(name);
            return it == policy->networks.end() ? nullptr : &it->second;
        };
        return s;
    }

    // Compiles a JSON string holding an expression; errors point inside the string.
    std::optional<expr::Expression> compile_string(const Json::Value& v, const std::string& what) {
        if (v.isBool()) return expr::Expression::constant(expr::Value(v.asBool()));
        if (v.isInt64()) {
            return expr::Expression::constant(expr::Value(static_cast<std::int64_t>(v.asInt64())));
        }
        if (v.isDouble()) return expr::Expression::constant(expr::Value(v.asDouble()));
        if (!v.isString()) {
            error(v, what + ": expected an expression string, a number or a boolean");
            return std::nullopt;
        }
        expr::CompileError err;
        auto compiled = expr::Expression::compile(v.asString(), symbols(), err);
        if (!compiled) {
            // +1 skips the opening quote; exact unless the string holds escapes before it.
            error_at_offset(static_cast<std::size_t>(v.getOffsetStart()) + 1 + err.offset,
                            what + ": " + err.message);
            return std::nullopt;
        }
        return compiled;
    }

    std::optional<PolicyExpression> compile_policy_expression(const Json::Value& v,
                                                              const std::string& what) {
        PolicyExpression out;
        if (!v.isObject()) {
            auto e = compile_string(v, what);
            if (!e) return std::nullopt;
            out.otherwise = std::move(*e);
            return out;
        }
        check_keys(v, what, {"match", "else"});
        const Json::Value& match = v["match"];
        if (!v.isMember("match") || !v.isMember("else")) {
            error(v, what + ": a match expression needs \"match\" and \"else\"");
            return std::nullopt;
        }
        // Stalwart 0.16 writes the list as an object {"0": {...}, "1": {...}}; accept both.
        std::vector<const Json::Value*> items;
        if (match.isArray()) {
            for (const auto& item : match)
                items.push_back(&item);
        } else if (match.isObject()) {
            auto names = match.getMemberNames();
            std::vector<std::pair<long, std::string>> ordered;
            for (const auto& n : names) {
                char* end = nullptr;
                long idx = std::strtol(n.c_str(), &end, 10);
                if (n.empty() || *end != '\0') {
                    error(match[n], what + ".match: keys must be numbers (\"0\", \"1\", ...)");
                    return std::nullopt;
                }
                ordered.emplace_back(idx, n);
            }
            std::sort(ordered.begin(), ordered.end());
            for (const auto& [idx, n] : ordered)
                items.push_back(&match[n]);
        } else {
            error(match, what + ".match: expected a list of {\"if\": ..., \"then\": ...}");
            return std::nullopt;
        }
        bool ok = true;
        for (const Json::Value* item : items) {
            if (!expect_object(*item, what + ".match[]")) {
                ok = false;
                continue;
            }
            check_keys(*item, what + ".match[]", {"if", "then"});
            if (!item->isMember("if") || !item->isMember("then")) {
                error(*item, what + ".match[]: needs \"if\" and \"then\"");
                ok = false;
                continue;
            }
            auto c = compile_string((*item)["if"], what + ".match[].if");
            auto t = compile_string((*item)["then"], what + ".match[].then");
            if (!c || !t) {
                ok = false;
                continue;
            }
            out.branches.push_back({std::move(*c), std::move(*t)});
        }
        auto e = compile_string(v["else"], what + ".else");
        if (!e || !ok) return std::nullopt;
        out.otherwise = std::move(*e);
        return out;
    }

    // --- rules -----------------------------------------------------------------------------

    void load_rules(const Json::Value& v, Policy& policy) {
        if (!v.isArray()) {
            error(v, "rules: expected a list of rule objects");
            return;
        }
        std::set<std::string> names;
        for (const auto& item : v) {
            if (!expect_object(item, "rule")) continue;
            Rule rule;
            if (!item.isMember("name")) {
                error(item, "rule: missing key 'name'");
                continue;
            }
            if (auto n = get_string(item["name"], "rule.name")) rule.name = *n;
            const std::string what = "rule '" + rule.name + "'";
            if (!names.insert(rule.name).second) error(item["name"], what + ": defined twice");
            check_keys(item, what,
                       {"name", "stage", "if", "action", "reply", "subject_tag", "add_headers"});
            rule.source_location = position_of(item);
            if (!item.isMember("stage") || !item.isMember("action")) {
                error(item, what + ": 'stage' and 'action' are required");
                continue;
            }
            if (auto s = get_string(item["stage"], what + ".stage");
                s && !parse_stage(*s, rule.stage)) {
                error(item["stage"], what + ".stage: expected connect, ehlo, mail, rcpt or data");
            }
            if (auto a = get_string(item["action"], what + ".action");
                a && !parse_action(*a, rule.action)) {
                error(item["action"], what +
                                          ".action: expected accept, reject, tempfail, discard "
                                          "or quarantine");
            }
            if (item.isMember("if")) {
                if (auto c = compile_policy_expression(item["if"], what + ".if")) {
                    rule.condition = std::move(*c);
                }
            } else {
                rule.condition.otherwise = expr::Expression::constant(expr::Value(true));
            }
            if (item.isMember("reply")) {
                if (auto r = load_reply(item["reply"], what + ".reply", rule.action)) {
                    rule.reply = *r;
                }
            }
            const bool data_only = item.isMember("subject_tag") || item.isMember("add_headers");
            if (data_only && rule.stage != Stage::Data) {
                error(item, what + ": subject_tag and add_headers need \"stage\": \"data\"");
            }
            if (item.isMember("subject_tag")) {
                if (auto t = get_string(item["subject_tag"], what + ".subject_tag")) {
                    rule.subject_tag = *t;
                }
            }
            if (item.isMember("add_headers")) load_add_headers(item["add_headers"], what, rule);
            policy.rules_by_stage[static_cast<std::size_t>(rule.stage)].push_back(std::move(rule));
        }
    }

    void load_add_headers(const Json::Value& v, const std::string& what, Rule& rule) {
        if (!expect_object(v, what + ".add_headers")) return;
        for (const auto& name : v.getMemberNames()) {
            if (!valid_header_name(name)) {
                error(v[name], what + ".add_headers: '" + name + "' is not a header name");
                continue;
            }
            auto value = get_string(v[name], what + ".add_headers." + name);
            if (!value) continue;
            if (value->find_first_of("\r\n") != std::string::npos) {
                error(v[name], what + ".add_headers." + name + ": value must be one line");
                continue;
            }
            rule.add_headers.emplace_back(name, *value);
        }
    }

    std::string position_of(const Json::Value& v) const {
        int line = 1, col = 1;
        const auto offset = std::min<std::size_t>(v.getOffsetStart(), text_.size());
        for (std::size_t i = 0; i < offset; ++i) {
            if (text_[i] == '\n') {
                ++line;
                col = 1;
            } else {
                ++col;
            }
        }
        return source_ + ":" + std::to_string(line) + ":" + std::to_string(col);
    }
};

}  // namespace

PolicyLoadResult load_policy_text(std::string_view text, std::string source_name) {
    return Loader(text, std::move(source_name)).run();
}

PolicyLoadResult load_policy_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        PolicyLoadResult r;
        r.errors.push_back(
            {path, 0, 0, "cannot read policy file: " + std::string(strerror(errno))});
        return r;
    }
    std::ostringstream ss;
    ss << in.rdbuf();
    return load_policy_text(ss.str(), path);
}

PolicyLoadResult load_default_policy() {
    return load_policy_text(default_policy_text(), std::string(kEmbeddedPolicyName));
}

}  // namespace relaytrust
