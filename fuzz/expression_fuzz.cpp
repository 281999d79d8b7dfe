// libFuzzer target: compiles arbitrary text as an expression against a small symbol table and,
// when it compiles, evaluates it against a fixed session. Invariants checked beyond "no crash":
// errors point inside the source and say something, and evaluation is deterministic.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>

#include "expr/expression.h"
#include "net/network_set.h"

namespace {

using relaytrust::expr::CompileError;
using relaytrust::expr::Context;
using relaytrust::expr::Expression;
using relaytrust::expr::Symbols;
using relaytrust::expr::Value;
using relaytrust::expr::VariableId;

constexpr std::string_view kVariables[] = {"listener", "remote_ip", "remote_port",    "is_tls",
                                           "sender",   "rcpt",      "recipients",     "score",
                                           "unset",    "subject",   "env_from.domain"};

class FuzzContext final : public Context {
  public:
    Value variable(VariableId id) const override {
        switch (id) {
            case 0:
                return Value::borrowed("smtp");
            case 1:
                return Value::borrowed("2001:db8::1");
            case 2:
                return Value(std::int64_t{25});
            case 3:
                return Value(true);
            case 4:
                return Value::borrowed("John.Doe@example.com");
            case 5:
                return Value::borrowed("bob@example.org");
            case 6:
                return Value::list({Value::borrowed("alice@example.org"),
                                    Value::borrowed("bob@example.org"), Value(std::int64_t{3})});
            case 7:
                return Value(4.25);
            case 9:
                return Value::borrowed("  Re: [SPAM] Hello \xC3\xA9t\xC3\xA9  ");
            case 10:
                return Value::borrowed("example.com");
            default:
                return Value();
        }
    }
    std::optional<std::string_view> header(std::string_view name) const override {
        if (name == "Subject") return std::string_view("hello");
        if (name == "X-Spam-Flag") return std::string_view("YES");
        return std::nullopt;
    }
};

const relaytrust::net::NetworkSet& trusted() {
    static const relaytrust::net::NetworkSet set = [] {
        relaytrust::net::NetworkSet s;
        (void)s.add("10.0.0.0/8");
        (void)s.add("2001:db8::/32");
        (void)s.add("!10.9.0.0/16");
        return s;
    }();
    return set;
}

const Symbols& symbols() {
    static const Symbols s = [] {
        Symbols out;
        out.variable = [](std::string_view name) -> std::optional<VariableId> {
            for (std::size_t i = 0; i < std::size(kVariables); ++i) {
                if (kVariables[i] == name) return static_cast<VariableId>(i);
            }
            return std::nullopt;
        };
        out.network = [](std::string_view name) -> const relaytrust::net::NetworkSet* {
            return name == "trusted" ? &trusted() : nullptr;
        };
        return out;
    }();
    return s;
}

[[noreturn]] void fail(const char* what) {
    std::fprintf(stderr, "expression_fuzz: %s\n", what);
    __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view source(reinterpret_cast<const char*>(data), size);
    CompileError error;
    auto expression = Expression::compile(source, symbols(), error);
    if (!expression) {
        if (error.offset > size) fail("error offset points past the end of the source");
        if (error.message.empty()) fail("compile error without a message");
        return 0;
    }
    FuzzContext context;
    Value first = expression->evaluate(context);
    Value second = expression->evaluate(context);
    if (first.to_string() != second.to_string()) fail("two evaluations gave different results");
    (void)first.to_bool();
    (void)first.to_number();
    return 0;
}
