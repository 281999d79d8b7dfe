#include "hook_request.h"

#include <array>
#include <stdexcept>

#include "json_reader.h"

namespace relaytrust::hookd {

namespace {

using json::Value;

constexpr std::array<std::string_view, 6> kStageNames = {"connect", "ehlo", "auth",
                                                         "mail",    "rcpt", "data"};

struct DecodeError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

[[noreturn]] void fail(const std::string& path, std::string_view expected) {
    throw DecodeError(path + ": expected " + std::string(expected));
}

Value& require_member(Value& object, const std::string& path, const char* key) {
    Value* member = object.find(key);
    if (!member) throw DecodeError(path + "." + key + ": missing");
    return *member;
}

// A member that may be absent or null (serde's Option): nullptr for both.
Value* optional_member(Value& object, const char* key) {
    Value* member = object.find(key);
    return member && !member->is_null() ? member : nullptr;
}

Value& require_object(Value& value, const std::string& path) {
    if (!value.is_object()) fail(path, "an object");
    return value;
}

// Moves the string out: the parsed document is thrown away after decoding.
std::string take_string(Value& value, const std::string& path) {
    if (!value.is_string()) fail(path, "a string");
    return std::move(value.string);
}

std::string string_member(Value& object, const std::string& path, const char* key) {
    return take_string(require_member(object, path, key), path + "." + key);
}

std::optional<std::string> nullable_string_member(Value& object, const std::string& path,
                                                  const char* key) {
    Value* member = optional_member(object, key);
    if (!member) return std::nullopt;
    return take_string(*member, path + "." + key);
}

// serde integer types reject 1.0 and "1": only JSON integers pass.
std::uint64_t require_unsigned(const Value& value, const std::string& path, std::uint64_t max) {
    if (!value.is_unsigned() || value.magnitude > max) {
        fail(path, "an integer 0.." + std::to_string(max));
    }
    return value.magnitude;
}

std::uint16_t port_member(Value& object, const std::string& path) {
    return static_cast<std::uint16_t>(
        require_unsigned(require_member(object, path, "port"), path + ".port", 65535));
}

HookStage decode_stage(Value& value, const std::string& path) {
    const std::string text = take_string(value, path);
    for (std::size_t i = 0; i < kStageNames.size(); ++i) {
        if (kStageNames[i] == text) return static_cast<HookStage>(i);
    }
    fail(path, "one of connect|ehlo|auth|mail|rcpt|data (lowercase)");
}

HookClient decode_client(Value& value, const std::string& path) {
    require_object(value, path);
    HookClient client;
    client.ip = string_member(value, path, "ip");
    client.port = port_member(value, path);
    client.ptr = nullable_string_member(value, path, "ptr");
    client.helo = nullable_string_member(value, path, "helo");
    if (Value* active = optional_member(value, "activeConnections")) {
        require_unsigned(*active, path + ".activeConnections", UINT32_MAX);
    }
    return client;
}

HookServer decode_server(Value& value, const std::string& path) {
    require_object(value, path);
    HookServer server;
    server.name = string_member(value, path, "name");
    server.port = port_member(value, path);
    server.ip = string_member(value, path, "ip");
    return server;
}

std::string decode_address(Value& value, const std::string& path) {
    require_object(value, path);
    // ESMTP "parameters" are never sent by Stalwart; if a future version sends them they are
    // not needed for a decision, so they are not decoded.
    return string_member(value, path, "address");
}

HookEnvelope decode_envelope(Value& value, const std::string& path) {
    require_object(value, path);
    HookEnvelope envelope;
    envelope.from = decode_address(require_member(value, path, "from"), path + ".from");
    Value& to = require_member(value, path, "to");
    if (!to.is_array()) fail(path + ".to", "an array");
    envelope.to.reserve(to.items.size());
    for (std::size_t i = 0; i < to.items.size(); ++i) {
        envelope.to.push_back(decode_address(to.items[i], path + ".to[" + std::to_string(i) + "]"));
    }
    return envelope;
}

HookMessage decode_message(Value& value, const std::string& path) {
    require_object(value, path);
    HookMessage message;
    Value& headers = require_member(value, path, "headers");
    if (!headers.is_array()) fail(path + ".headers", "an array");
    message.headers.reserve(headers.items.size());
    for (std::size_t i = 0; i < headers.items.size(); ++i) {
        Value& pair = headers.items[i];
        if (!pair.is_array() || pair.items.size() != 2) {
            fail(path + ".headers[" + std::to_string(i) + "]", "a [name, value] pair of strings");
        }
        if (!pair.items[0].is_string() || !pair.items[1].is_string() ||
            pair.items[0].string.empty()) {
            const std::string item = path + ".headers[" + std::to_string(i) + "]";
            if (!pair.items[0].is_string()) fail(item + "[0]", "a string");
            if (!pair.items[1].is_string()) fail(item + "[1]", "a string");
            fail(item + "[0]", "a non-empty header name");
        }
        message.headers.emplace_back(std::move(pair.items[0].string),
                                     std::move(pair.items[1].string));
    }
    message.contents = string_member(value, path, "contents");
    message.size =
        require_unsigned(require_member(value, path, "size"), path + ".size", UINT64_MAX);
    return message;
}

HookRequest decode_root(Value& root) {
    require_object(root, "request");
    HookRequest request;
    Value& context = require_object(require_member(root, "request", "context"), "context");
    request.stage = decode_stage(require_member(context, "context", "stage"), "context.stage");
    request.client = decode_client(require_member(context, "context", "client"), "context.client");
    request.server = decode_server(require_member(context, "context", "server"), "context.server");
    if (Value* sasl = optional_member(context, "sasl")) {
        require_object(*sasl, "context.sasl");
        request.sasl_login = string_member(*sasl, "context.sasl", "login");
    }
    if (Value* tls = optional_member(context, "tls")) {
        require_object(*tls, "context.tls");
        request.tls = HookTls{string_member(*tls, "context.tls", "version"),
                              string_member(*tls, "context.tls", "cipher")};
    }
    if (Value* queue = optional_member(context, "queue")) {
        require_object(*queue, "context.queue");
        request.queue_id = string_member(*queue, "context.queue", "id");
    }
    // Version 1 is the only protocol Stalwart speaks; anything else is a different protocol
    // (e.g. the IETF MTA-hooks draft) that must not be half-understood.
    if (Value* protocol = optional_member(context, "protocol")) {
        require_object(*protocol, "context.protocol");
        Value& version = require_member(*protocol, "context.protocol", "version");
        if (require_unsigned(version, "context.protocol.version", UINT32_MAX) != 1) {
            fail("context.protocol.version", "1");
        }
    }
    if (Value* envelope = optional_member(root, "envelope")) {
        request.envelope = decode_envelope(*envelope, "envelope");
    }
    if (Value* message = optional_member(root, "message")) {
        request.message = decode_message(*message, "message");
    }

    // What Stalwart always sends with each stage; without it the stage cannot be decided.
    switch (request.stage) {
        case HookStage::Ehlo:
            if (!request.client.helo) fail("context.client.helo", "a string at stage ehlo");
            break;
        case HookStage::Mail:
            if (!request.envelope) fail("envelope", "an object at stage mail");
            break;
        case HookStage::Rcpt:
            if (!request.envelope || request.envelope->to.empty()) {
                fail("envelope.to", "at least one recipient at stage rcpt");
            }
            break;
        case HookStage::Data:
            if (!request.envelope) fail("envelope", "an object at stage data");
            if (!request.message) fail("message", "an object at stage data");
            break;
        case HookStage::Connect:
        case HookStage::Auth:
            break;
    }
    return request;
}

}  // namespace

std::string_view hook_stage_name(HookStage stage) {
    return kStageNames[static_cast<std::size_t>(stage)];
}

HookRequestDecodeResult decode_hook_request(std::string_view body) {
    HookRequestDecodeResult result;
    Value root;
    std::string error;
    if (!json::parse(body, root, error)) {
        result.error = "malformed JSON at " + error;
        return result;
    }
    try {
        result.request = decode_root(root);
    } catch (const DecodeError& e) {
        result.error = e.what();
    }
    return result;
}

}  // namespace relaytrust::hookd
