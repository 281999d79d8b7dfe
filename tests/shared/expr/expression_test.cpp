#include "expr/expression.h"

#include <doctest/doctest.h>

#include <cmath>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "net/network_set.h"

namespace relaytrust::expr {
namespace {

enum Var : VariableId {
    kListener,
    kRemoteIp,
    kRemotePort,
    kIsTls,
    kRcpt,
    kRecipients,
    kSender,
    kScore,
    kUnset,
    kHelo,
    kEnvFromDomain,
    kSubject,
};

const std::map<std::string, VariableId, std::less<>> kVariableNames = {
    {"listener", kListener},
    {"remote_ip", kRemoteIp},
    {"remote_port", kRemotePort},
    {"is_tls", kIsTls},
    {"rcpt", kRcpt},
    {"recipients", kRecipients},
    {"sender", kSender},
    {"score", kScore},
    {"unset", kUnset},
    {"helo_domain", kHelo},
    {"env_from.domain", kEnvFromDomain},
    {"subject", kSubject},
};

// A session as the engine would expose it: strings are handed out as views.
class TestContext : public Context {
  public:
    std::string listener = "relay-in";
    std::string remote_ip = "10.0.0.1";
    std::int64_t remote_port = 25;
    bool is_tls = true;
    std::string rcpt = "Bob@Example.org";
    std::vector<std::string> recipients = {"alice@example.org", "bob@example.org"};
    std::string sender = "john.doe@example.com";
    double score = 4.5;
    std::string helo = "mx.example.com";
    std::string subject = "  Hello World  ";
    std::vector<std::pair<std::string, std::string>> headers = {
        {"Subject", "first"}, {"X-Spam", "yes"}, {"subject", "second"}};
    mutable int header_calls = 0;
    mutable int variable_calls = 0;

    Value variable(VariableId id) const override {
        ++variable_calls;
        switch (id) {
            case kListener:
                return Value::borrowed(listener);
            case kRemoteIp:
                return Value::borrowed(remote_ip);
            case kRemotePort:
                return Value(remote_port);
            case kIsTls:
                return Value(is_tls);
            case kRcpt:
                return Value::borrowed(rcpt);
            case kRecipients: {
                Value::List items;
                for (const auto& r : recipients)
                    items.push_back(Value::borrowed(r));
                return Value::list(std::move(items));
            }
            case kSender:
                return Value::borrowed(sender);
            case kScore:
                return Value(score);
            case kHelo:
                return Value::borrowed(helo);
            case kEnvFromDomain:
                return Value::borrowed("example.com");
            case kSubject:
                return Value::borrowed(subject);
            default:
                return Value();
        }
    }

    std::optional<std::string_view> header(std::string_view name) const override {
        ++header_calls;
        for (const auto& [n, v] : headers) {
            if (n.size() != name.size()) continue;
            bool same = true;
            for (std::size_t i = 0; i < n.size(); ++i) {
                same = same && std::tolower(static_cast<unsigned char>(n[i])) ==
                                   std::tolower(static_cast<unsigned char>(name[i]));
            }
            if (same) return std::string_view(v);
        }
        return std::nullopt;
    }
};

net::NetworkSet& trusted_set() {
    static net::NetworkSet set = [] {
        net::NetworkSet s;
        REQUIRE(s.add("10.0.0.0/8").empty());
        REQUIRE(s.add("2001:db8::/32").empty());
        REQUIRE(s.add("!10.9.0.0/16").empty());
        return s;
    }();
    return set;
}

Symbols test_symbols() {
    Symbols s;
    s.variable = [](std::string_view name) -> std::optional<VariableId> {
        auto it = kVariableNames.find(name);
        if (it == kVariableNames.end()) return std::nullopt;
        return it->second;
    };
    s.network = [](std::string_view name) -> const net::NetworkSet* {
        return name == "trusted" ? &trusted_set() : nullptr;
    };
    return s;
}

Expression compile_ok(std::string_view source) {
    CompileError error;
    auto e = Expression::compile(source, test_symbols(), error);
    INFO("source: ", source, " error at ", error.offset, ": ", error.message);
    REQUIRE(e.has_value());
    return std::move(*e);
}

CompileError compile_fail(std::string_view source) {
    CompileError error;
    auto e = Expression::compile(source, test_symbols(), error);
    INFO("source: ", source);
    REQUIRE_FALSE(e.has_value());
    return error;
}

Value eval(std::string_view source, const TestContext& context = TestContext()) {
    return compile_ok(source).evaluate(context);
}

bool truth(std::string_view source, const TestContext& context = TestContext()) {
    return eval(source, context).to_bool();
}

std::string text(std::string_view source, const TestContext& context = TestContext()) {
    return eval(source, context).to_string();
}

// Renders lists as [a|b|c] so list results compare as one string.
std::string render(const Value& v) {
    if (const auto* list = v.as_list()) {
        std::string out = "[";
        for (std::size_t i = 0; i < list->size(); ++i) {
            if (i) out += "|";
            out += render((*list)[i]);
        }
        return out + "]";
    }
    return v.to_string();
}

std::string list_text(std::string_view source, const TestContext& context = TestContext()) {
    return render(eval(source, context));
}

bool is_int(const Value& v, std::int64_t expected) {
    const auto* i = std::get_if<std::int64_t>(&v.storage());
    return i && *i == expected;
}

bool is_float(const Value& v, double expected) {
    const auto* d = std::get_if<double>(&v.storage());
    return d && *d == expected;
}

}  // namespace

TEST_SUITE("expr") {
    TEST_CASE("expr: literals") {
        CHECK(is_int(eval("42"), 42));
        CHECK(is_int(eval("-42"), -42));
        CHECK(is_float(eval("1.5"), 1.5));
        CHECK(is_float(eval(".5"), 0.5));
        CHECK(is_float(eval("5."), 5.0));
        CHECK(text("'single'") == "single");
        CHECK(text("\"double\"") == "double");
        CHECK(text("'it\\'s'") == "it's");
        CHECK(text("\"say \\\"hi\\\"\"") == "say \"hi\"");
        CHECK(text("'a\\nb\\tc\\rd'") == "a\nb\tc\rd");
        // Other escapes stay as written so regexes copied from Stalwart keep working.
        CHECK(text("'a\\.b\\d'") == "a\\.b\\d");
        CHECK(text("'back\\\\slash'") == "back\\\\slash");
        CHECK(eval("true").to_bool());
        CHECK_FALSE(eval("false").to_bool());
        CHECK(list_text("[1, 'two', 3.5, [4]]") == "[1|two|3.5|[4]]");
        CHECK(list_text("[]") == "[]");
        // Stalwart durations are integers in milliseconds.
        CHECK(is_int(eval("1d"), 86400000));
        CHECK(is_int(eval("2h"), 7200000));
        CHECK(is_int(eval("5m"), 300000));
        CHECK(is_int(eval("30s"), 30000));
        CHECK(is_int(eval("100ms"), 100));
        CHECK(is_int(eval("1D"), 86400000));
    }

    TEST_CASE("expr: value conversions") {
        CHECK_FALSE(Value().to_bool());
        CHECK_FALSE(Value::borrowed("").to_bool());
        CHECK(Value::borrowed("0").to_bool());  // a non-empty string is true, even "0"
        CHECK_FALSE(Value(0).to_bool());
        CHECK(Value(-1).to_bool());
        CHECK_FALSE(Value(0.0).to_bool());
        CHECK(Value(std::nan("")).to_bool());
        CHECK_FALSE(Value::list({}).to_bool());
        CHECK(Value::list({Value::borrowed("")}).to_bool());

        CHECK(Value(1.0).to_string() == "1");
        CHECK(Value(0.1).to_string() == "0.1");
        CHECK(Value(-2.5).to_string() == "-2.5");
        CHECK(Value(1e21).to_string() == "1000000000000000000000");
        CHECK(Value(std::nan("")).to_string() == "NaN");
        CHECK(Value(-INFINITY).to_string() == "-inf");
        CHECK(Value(true).to_string() == "true");
        CHECK(Value(std::int64_t{-7}).to_string() == "-7");
        CHECK(Value::list({Value::borrowed("a"), Value(2)}).to_string() == "a\r\n2");
        CHECK(Value().to_string().empty());

        CHECK(Value::borrowed("12").to_number() == 12.0);
        CHECK(Value::borrowed("-1.5e2").to_number() == -150.0);
        CHECK(Value(true).to_number() == 1.0);
        CHECK_FALSE(Value::borrowed("12abc").to_number().has_value());
        CHECK_FALSE(Value::borrowed(" 12").to_number().has_value());
        CHECK_FALSE(Value::list({}).to_number().has_value());

        CHECK(Value::owned("x").as_string_view() == "x");
        CHECK(Value(3).as_string_view().empty());
        CHECK(Value(3).as_list() == nullptr);
        REQUIRE(Value::list({Value(1)}).as_list() != nullptr);
        CHECK(Value::list({Value(1)}).as_list()->size() == 1);
    }

    TEST_CASE("expr: arithmetic") {
        CHECK(is_int(eval("2 + 3"), 5));
        CHECK(is_int(eval("2 - 5"), -3));
        CHECK(is_int(eval("6 * 7"), 42));
        CHECK(is_float(eval("7 / 2"), 3.5));
        CHECK(is_float(eval("8 / 2"), 4.0));  // division is always a float, as in Stalwart
        CHECK(is_float(eval("1 + 0.5"), 1.5));
        CHECK(is_float(eval("0.5 * 4"), 2.0));
        // Division by zero yields 0.0 (Stalwart), never a crash or infinity.
        CHECK(is_float(eval("1 / 0"), 0.0));
        CHECK(is_float(eval("1.5 / 0.0"), 0.0));
        CHECK(is_float(eval("1 / 'abc'"), 0.0));
        // Integer overflow saturates.
        CHECK(is_int(eval("9223372036854775807 + 1"), INT64_MAX));
        CHECK(is_int(eval("-9223372036854775807 - 10"), INT64_MIN));
        CHECK(is_int(eval("9223372036854775807 * -2"), INT64_MIN));
        // Numeric strings take part in - * / (not in +, which concatenates).
        CHECK(is_int(eval("'5' * 2"), 10));
        CHECK(is_int(eval("'5' - 2"), 3));
        CHECK(is_float(eval("'1.5' * 2"), 3.0));
        CHECK(is_int(eval("'abc' * 2"), 0));
        CHECK(text("'5' + 2") == "52");
        CHECK(text("2 + '5'") == "25");
        CHECK(text("'a' + 'b' + 1 + 2") == "ab12");
        CHECK(text("'x' + 1.0") == "x1");
        CHECK(is_int(eval("'' + 5"), 5));  // the empty string is the identity
        CHECK(is_int(eval("unset + 5"), 5));
        // Booleans are the integers 1 and 0.
        CHECK(is_int(eval("true + 1"), 2));
        CHECK(is_int(eval("true * 5"), 5));
        // Lists: + appends or concatenates, - removes matching items.
        CHECK(list_text("[1, 2] + [3]") == "[1|2|3]");
        CHECK(list_text("[1, 2] + 3") == "[1|2|3]");
        CHECK(list_text("0 + [1]") == "[0|1]");
        CHECK(list_text("['a', 'b', 'a'] - 'a'") == "[b]");
        CHECK(list_text("[1, 2, '1'] - 1") == "[2]");
        // Unary minus.
        CHECK(is_int(eval("-(2 + 3)"), -5));
        CHECK(is_float(eval("-1.5"), -1.5));
        CHECK(is_int(eval("-'7'"), -7));
        CHECK(is_int(eval("- -3"), 3));
        CHECK(is_int(eval("4 - -3"), 7));
    }

    TEST_CASE("expr: comparisons") {
        CHECK(truth("1 == 1"));
        CHECK(truth("1 == 1.0"));
        CHECK(truth("1 != 2"));
        CHECK(truth("'a' == 'a'"));
        CHECK_FALSE(truth("'a' == 'A'"));
        CHECK(truth("'abc' < 'abd'"));
        CHECK(truth("'B' < 'a'"));  // byte order
        CHECK(truth("2 <= 2"));
        CHECK(truth("3 >= 2.5"));
        CHECK_FALSE(truth("3 > 3"));
        CHECK(truth("3 < 4"));
        // A string compared with a number is parsed as a number.
        CHECK(truth("'10' == 10"));
        CHECK(truth("'10' > 9"));
        CHECK(truth("9 < '10'"));
        CHECK(truth("'2.5' == 2.5"));
        CHECK(truth("'abc' == 0"));            // Stalwart: unparsable strings count as 0
        CHECK_FALSE(truth("'10' == '10.0'"));  // two strings compare as text
        // Lists.
        CHECK(truth("[1, 'a'] == [1, 'a']"));
        CHECK(truth("[1, 2] == ['1', 2]"));
        CHECK_FALSE(truth("[1, 2] == [1, 2, 3]"));
        CHECK(truth("[1, 2] < [1, 3]"));
        CHECK(truth("[1] < [1, 0]"));
        CHECK(truth("[1] > 5"));  // a list orders after a number
        CHECK(truth("5 < [1]"));
        CHECK_FALSE(truth("[1] == 1"));
        // Booleans are 1 and 0.
        CHECK(truth("true == 1"));
        CHECK(truth("is_tls == true"));
        CHECK(truth("is_tls == 1"));
        CHECK_FALSE(truth("is_tls == 'true'"));  // as in Stalwart: 'true' is not a number
        // The unset variable is the empty string.
        CHECK(truth("unset == ''"));
        CHECK(truth("unset == 0"));
        // Variables of each kind.
        CHECK(truth("remote_port == 25"));
        CHECK(truth("remote_port == '25'"));
        CHECK(truth("score > 4"));
        CHECK(truth("score < 4.6"));
        // Comparison results chain left to right: (3 > 2) > 0.
        CHECK(truth("3 > 2 > 0"));
        CHECK_FALSE(truth("3 > 2 > 1"));
    }

    TEST_CASE("expr: NaN is unordered") {
        TestContext ctx;
        ctx.score = std::nan("");
        CHECK_FALSE(truth("score < 1", ctx));
        CHECK_FALSE(truth("score >= 1", ctx));
        CHECK_FALSE(truth("score == score", ctx));
        CHECK(truth("score != score", ctx));
    }

    TEST_CASE("expr: logical operators and synonyms") {
        CHECK(truth("true && true"));
        CHECK_FALSE(truth("true && false"));
        CHECK(truth("false || true"));
        CHECK_FALSE(truth("false || false"));
        CHECK(truth("!false"));
        CHECK_FALSE(truth("!'x'"));
        CHECK(truth("!''"));
        CHECK(truth("!!'x'"));
        CHECK(truth("true ^ false"));
        CHECK_FALSE(truth("true ^ true"));
        // Stalwart's single-character and alternative spellings.
        CHECK(truth("true & true"));
        CHECK(truth("false | true"));
        CHECK(truth("remote_port = 25"));
        CHECK(truth("remote_port=25"));
        CHECK(truth("remote_port => 25"));
        CHECK(truth("remote_port =< 25"));
        CHECK_FALSE(truth("remote_port =< 24"));
        // && and || yield booleans.
        CHECK(std::holds_alternative<bool>(eval("'a' && 'b'").storage()));
        CHECK(std::holds_alternative<bool>(eval("'' || 0").storage()));
    }

    TEST_CASE("expr: short-circuit evaluation") {
        TestContext ctx;
        CHECK_FALSE(truth("false && has_header('X-Spam')", ctx));
        CHECK(ctx.header_calls == 0);
        CHECK(truth("true || has_header('X-Spam')", ctx));
        CHECK(ctx.header_calls == 0);
        CHECK(truth("false || has_header('X-Spam')", ctx));
        CHECK(ctx.header_calls == 1);
        // if_then evaluates only the chosen branch.
        CHECK(text("if_then(true, 'yes', header('X-Spam'))", ctx) == "yes");
        CHECK(ctx.header_calls == 1);
    }

    TEST_CASE("expr: precedence") {
        CHECK(is_int(eval("2 + 3 * 4"), 14));
        CHECK(is_int(eval("(2 + 3) * 4"), 20));
        CHECK(is_int(eval("10 - 2 - 3"), 5));     // left associative
        CHECK(is_float(eval("8 / 2 / 2"), 2.0));  // left associative
        CHECK(is_int(eval("-2 * 3"), -6));
        CHECK(is_int(eval("2 * -3 + 1"), -5));
        CHECK(truth("1 + 2 == 3 && 4 > 3"));
        CHECK(truth("1 < 2 == 2 < 3"));          // relational binds tighter than equality
        CHECK(truth("true || false && false"));  // && binds tighter than ||
        CHECK_FALSE(truth("(true || false) && false"));
        CHECK(truth("true ^ 1 == 2"));               // ^ is below ==: true ^ (1 == 2)
        CHECK(truth("false ^ true && true"));        // ^ is above &&: (false ^ true) && true
        CHECK_FALSE(truth("true ^ true || false"));  // (true ^ true) || false
        // Unary operators bind tighter than any binary operator: (!1) == 0.
        CHECK(truth("!1 == 0"));
        CHECK(truth("!remote_port == false"));
        CHECK(is_int(eval("-remote_port + 30"), 5));
        CHECK(truth("listener != 'smtp' & remote_port == 25"));
    }

    TEST_CASE("expr: Stalwart example conditions") {
        TestContext ctx;
        CHECK(truth("listener == 'relay-in' && remote_ip == '10.0.0.1'", ctx));
        CHECK_FALSE(truth("listener == 'smtp' && remote_ip == '10.0.0.1'", ctx));
        CHECK(truth("is_ip_in_cidr(remote_ip, '10.0.0.0/8')", ctx));
        CHECK_FALSE(truth("is_ip_in_cidr(remote_ip, '192.168.0.0/16')", ctx));
        CHECK(truth("(remote_port > 3 || is_tls) && is_ip_in_cidr(remote_ip, '10.0.0.0/8')", ctx));
        ctx.remote_ip = "2001:db8::25";
        CHECK(truth("is_ip_in_cidr(remote_ip, '2001:db8::/32')", ctx));
        CHECK_FALSE(truth("is_ip_in_cidr(remote_ip, '2001:db9::/32')", ctx));
        CHECK_FALSE(truth("is_ip_in_cidr(remote_ip, '10.0.0.0/8')", ctx));
        CHECK(text("'sql_' + listener", ctx) == "sql_relay-in");
        CHECK(text("sender + '@' + 'example.net'", ctx) == "john.doe@example.com@example.net");
    }

    TEST_CASE("expr: variables") {
        TestContext ctx;
        Value v = eval("sender", ctx);
        // Borrowed straight from the context: no copy.
        REQUIRE(std::holds_alternative<std::string_view>(v.storage()));
        CHECK(v.as_string_view().data() == ctx.sender.data());
        CHECK(text("env_from.domain", ctx) == "example.com");
        CHECK(eval("unset", ctx).is_empty_value());
        CHECK(list_text("recipients", ctx) == "[alice@example.org|bob@example.org]");

        auto err = compile_fail("listener == 'x' && nosuch == 1");
        CHECK(err.offset == 19);
        CHECK(err.message == "unknown variable 'nosuch'");
        err = compile_fail("contains");
        CHECK(err.message == "function 'contains' needs its arguments: contains(...)");
    }

    TEST_CASE("expr: results never point into the expression") {
        TestContext ctx;
        Value literal, list, chosen;
        {
            auto e = compile_ok("'a literal longer than the small-string buffer'");
            literal = e.evaluate(ctx);
            list = compile_ok("[sender, 'another literal longer than the buffer']").evaluate(ctx);
            chosen = compile_ok("if_then(is_tls, 'the chosen long literal branch', sender)")
                         .evaluate(ctx);
        }
        CHECK(literal.to_string() == "a literal longer than the small-string buffer");
        CHECK(chosen.to_string() == "the chosen long literal branch");
        REQUIRE(list.as_list() != nullptr);
        REQUIRE(list.as_list()->size() == 2);
        CHECK((*list.as_list())[1].to_string() == "another literal longer than the buffer");
        // Context strings stay views.
        CHECK((*list.as_list())[0].as_string_view().data() == ctx.sender.data());
    }

    TEST_CASE("expr: constant folding keeps its own copies") {
        std::string source = "trim('   folded text   ') + '!'";
        auto e = compile_ok(source);
        source.assign(source.size(), '#');  // the compiled form must not point into the source
        CHECK(e.evaluate(TestContext()).to_string() == "folded text!");
        CHECK(e.source() == "trim('   folded text   ') + '!'");

        std::string backing = "constant text";
        Expression c = Expression::constant(Value::borrowed(backing));
        backing.assign(backing.size(), '#');
        CHECK(c.evaluate(TestContext()).to_string() == "constant text");
        CHECK(is_int(Expression::constant(Value(7)).evaluate(TestContext()), 7));
        CHECK(Expression().evaluate(TestContext()).is_empty_value());

        Expression moved = std::move(c);
        CHECK(moved.evaluate(TestContext()).to_string() == "constant text");
    }

    TEST_CASE("expr: is_ip_in_cidr follows Stalwart") {
        TestContext ctx;
        CHECK(truth("is_ip_in_cidr('10.30.20.11', '10.0.0.0/8')"));
        CHECK(truth("is_ip_in_cidr('10.255.255.255', '10.0.0.0/8')"));
        CHECK_FALSE(truth("is_ip_in_cidr('11.0.0.0', '10.0.0.0/8')"));
        CHECK(truth("is_ip_in_cidr('192.168.1.1', '192.168.1.1')"));  // bare address
        CHECK_FALSE(truth("is_ip_in_cidr('192.168.1.2', '192.168.1.1')"));
        CHECK(truth("is_ip_in_cidr('10.1.2.3', '10.1.2.99/24')"));  // host bits are masked
        CHECK(truth("is_ip_in_cidr('10.1.2.3', ' 10.1.0.0 / 16 ')"));
        // IPv4 networks match IPv4-mapped IPv6 addresses; IPv6 networks match IPv4 as mapped.
        CHECK(truth("is_ip_in_cidr('::ffff:10.1.2.3', '10.0.0.0/8')"));
        CHECK(truth("is_ip_in_cidr('::ffff:10.1.2.3', '10.1.2.3')"));
        CHECK(truth("is_ip_in_cidr('10.1.2.3', '::ffff:0:0/96')"));
        CHECK(truth("is_ip_in_cidr('10.1.2.3', '::ffff:10.1.2.3')"));
        CHECK_FALSE(truth("is_ip_in_cidr('10.1.2.3', '2001:db8::/32')"));
        CHECK(truth("is_ip_in_cidr('2001:DB8:0:0:0:0:0:1', '2001:db8::1')"));
        CHECK(truth("is_ip_in_cidr('fe80::1', 'fe80::/10')"));
        CHECK_FALSE(truth("is_ip_in_cidr('fec0::1', 'fe80::/10')"));
        // Not an IP (Rust's strict parser): no match, no error.
        CHECK_FALSE(truth("is_ip_in_cidr('010.0.0.1', '10.0.0.0/8')"));
        CHECK_FALSE(truth("is_ip_in_cidr('[10.0.0.1]', '10.0.0.0/8')"));
        CHECK_FALSE(truth("is_ip_in_cidr('example.com', '10.0.0.0/8')"));
        CHECK_FALSE(truth("is_ip_in_cidr(unset, '10.0.0.0/8')"));
        // A CIDR computed at run time is parsed then; an invalid one does not match.
        CHECK(truth("is_ip_in_cidr(remote_ip, '10.0.0.' + '0/24')", ctx));
        CHECK(truth("is_ip_in_cidr(remote_ip, helo_domain) == false", ctx));
        // A literal CIDR is checked when the policy loads.
        auto err = compile_fail("is_ip_in_cidr(remote_ip, '10.0.0.0/33')");
        CHECK(err.offset == 25);
        CHECK(err.message == "invalid CIDR '10.0.0.0/33': prefix length '33' must be 8..32");
        err = compile_fail("is_ip_in_cidr(remote_ip, '0.0.0.0/0')");
        CHECK(err.message.find("must be 8..32") != std::string::npos);
        err = compile_fail("is_ip_in_cidr(remote_ip, '10.0.0/8')");
        CHECK(err.message == "invalid CIDR '10.0.0/8': '10.0.0' is not an IP address");
    }

    TEST_CASE("expr: IP helper functions") {
        CHECK(truth("is_ip_addr('192.168.1.1')"));
        CHECK(truth("is_ip_addr('::1')"));
        CHECK_FALSE(truth("is_ip_addr('256.1.1.1')"));
        CHECK_FALSE(truth("is_ip_addr('1.2.3')"));
        CHECK_FALSE(truth("is_ip_addr('1:2:3:4::5:6:7:8')"));  // '::' must stand for a group
        CHECK(truth("is_ip_addr('1:2:3:4:5:6:7:8')"));
        CHECK(truth("is_ip_addr('::ffff:1.2.3.4')"));
        CHECK_FALSE(truth("is_ip_addr('fe80::1%eth0')"));
        CHECK(truth("is_ipv4_addr('192.168.1.1')"));
        CHECK_FALSE(truth("is_ipv4_addr('::1')"));
        CHECK(truth("is_ipv6_addr('::1')"));
        CHECK_FALSE(truth("is_ipv6_addr('1.2.3.4')"));
        CHECK(text("ip_reverse_name('1.2.3.4')") == "4.3.2.1");
        CHECK(text("ip_reverse_name('2001:db8::1')") ==
              "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2");
        CHECK(text("ip_reverse_name('nope')").empty());
    }

    TEST_CASE("expr: in_network uses the policy's named sets") {
        TestContext ctx;
        CHECK(truth("in_network(remote_ip, 'trusted')", ctx));
        ctx.remote_ip = "10.9.1.1";  // excluded by !10.9.0.0/16
        CHECK_FALSE(truth("in_network(remote_ip, 'trusted')", ctx));
        ctx.remote_ip = "2001:db8::7";
        CHECK(truth("in_network(remote_ip, 'trusted')", ctx));
        ctx.remote_ip = "192.0.2.1";
        CHECK_FALSE(truth("in_network(remote_ip, 'trusted')", ctx));
        ctx.remote_ip = "garbage";
        CHECK_FALSE(truth("in_network(remote_ip, 'trusted')", ctx));

        auto err = compile_fail("in_network(remote_ip, 'nosuch')");
        CHECK(err.offset == 22);
        CHECK(err.message == "unknown network set 'nosuch'");
        err = compile_fail("in_network(remote_ip, listener)");
        CHECK(err.offset == 22);
        CHECK(err.message.find("string literal") != std::string::npos);
        // Without a network resolver every set is unknown.
        Symbols bare;
        CompileError error;
        CHECK_FALSE(Expression::compile("in_network('1.2.3.4', 'trusted')", bare, error));
        CHECK(error.message == "unknown network set 'trusted'");
    }

    TEST_CASE("expr: contains, starts_with, ends_with") {
        TestContext ctx;
        CHECK(truth("contains('Hello World', 'World')"));
        CHECK_FALSE(truth("contains('Hello World', 'world')"));
        CHECK(truth("contains(sender, '@example.')", ctx));
        CHECK(truth("contains(recipients, 'bob@example.org')", ctx));
        CHECK_FALSE(truth("contains(recipients, 'bob')", ctx));  // list: whole elements
        CHECK(truth("contains([1, 2, 3], '2')"));                // Stalwart's loose equality
        CHECK(truth("contains(12345, 34)"));                     // numbers as text
        CHECK(truth("contains('abc', '')"));
        CHECK(truth("starts_with('Hello World', 'Hello')"));
        CHECK_FALSE(truth("starts_with('Hello', 'Hello World')"));
        CHECK(truth("ends_with(sender, '.com')", ctx));
        CHECK_FALSE(truth("ends_with(sender, '.org')", ctx));
        CHECK(truth("ends_with(123, 23)"));
        CHECK(truth("contains_ignore_case('Hello World', 'WORLD')"));
        CHECK(truth("contains_ignore_case(['A', 'b'], 'a')"));
        CHECK_FALSE(truth("contains_ignore_case(['Ab'], 'a')"));
        CHECK(truth("eq_ignore_case('hello', 'HELLO')"));
        CHECK_FALSE(truth("eq_ignore_case('hello', 'HELL')"));
    }

    TEST_CASE("expr: matches takes the regex first") {
        TestContext ctx;
        CHECK(truth("matches('^[a-z.]+@example\\.com$', sender)", ctx));
        CHECK_FALSE(truth("matches('^[a-z.]+@example\\.org$', sender)", ctx));
        CHECK(truth("matches('doe', sender)", ctx));  // unanchored search
        CHECK_FALSE(truth("matches('DOE', sender)", ctx));
        CHECK(truth("matches('(?i)DOE', sender)", ctx));  // Rust's inline flag at the start
        CHECK(truth("matches('\\d+', 'abc 123')"));
        CHECK(truth("matches('^$', '')"));
        CHECK(truth("matches('^25$', remote_port)", ctx));  // numbers are matched as text
        CHECK(truth("matches(\"^[^@]+@(.+)$\", rcpt) && $1 == 'Example.org'", ctx));
        CHECK(text("if_then(matches('^([^.]+)@([^.]+)\\.(.+)$', rcpt), $1 + '@' + $3, '')", ctx) ==
              "Bob@org");
        // Groups follow POSIX leftmost-longest rules (Rust's leftmost-first would give "b").
        CHECK(text("if_then(matches('b|bc', 'abcd'), $0, '')") == "bc");
        CHECK(text("if_then(matches('(x)?y', 'zy'), '[' + $1 + ']', 'no')") == "[]");
        CHECK(text("$1") == "");  // no match yet
        CHECK(text("if_then(matches('(a)', 'b'), 'm', $1)") == "");
        // Large input: linear time, no deep recursion.
        ctx.subject = std::string(200000, 'a') + "b";
        CHECK(truth("matches('a*b$', subject)", ctx));
        CHECK_FALSE(truth("matches('(a|aa)*c', subject)", ctx));
        CHECK_FALSE(truth("matches('.*x', subject)", ctx));
    }

    TEST_CASE("expr: matches compile errors") {
        auto err = compile_fail("matches(sender, '^a')");
        CHECK(err.offset == 8);
        CHECK(err.message.find("regular expression as a string literal") != std::string::npos);
        err = compile_fail("matches('a(b', sender)");
        CHECK(err.message == "missing ')' in regular expression");
        err = compile_fail("matches('ab)', sender)");
        CHECK(err.offset == 11);
        CHECK(err.message == "unmatched ')' in regular expression");
        err = compile_fail("matches('(a)\\1', sender)");
        CHECK(err.offset == 12);
        CHECK(err.message == "backreferences are not supported");
        err = compile_fail("matches('(?P<name>a)', sender)");
        CHECK(err.message.find("not supported") != std::string::npos);
        err = compile_fail("matches('\\Aabc', sender)");
        CHECK(err.message.find("'\\A'") != std::string::npos);
        err = compile_fail("matches('[a-', sender)");
        CHECK(err.message.find("unterminated '['") != std::string::npos);
        err = compile_fail("matches('a{5000}', sender)");
        CHECK(err.message.find("repetition count") != std::string::npos);
        err = compile_fail("matches('" + std::string(100, '(') + std::string(100, ')') +
                           "', sender)");
        CHECK(err.message.find("nests groups too deeply") != std::string::npos);
        err = compile_fail("matches('[z-a]', sender)");
        CHECK(err.message.find("invalid regular expression") != std::string::npos);
        err = compile_fail("matches('a')");
        CHECK(err.message == "function 'matches' expects 2 arguments, got 1");
    }

    TEST_CASE("expr: header and has_header") {
        TestContext ctx;
        CHECK(text("header('Subject')", ctx) == "first");  // first instance
        CHECK(text("header('x-spam')", ctx) == "yes");
        Value absent = eval("header('X-Missing')", ctx);
        CHECK(absent.is_string());
        CHECK(absent.as_string_view().empty());
        CHECK(truth("has_header('X-Spam')", ctx));
        CHECK_FALSE(truth("has_header('X-Missing')", ctx));
        CHECK(truth("header('X-' + 'Spam') == 'yes'", ctx));
        CHECK(compile_fail("header()").message == "function 'header' expects 1 argument, got 0");
    }

    TEST_CASE("expr: emptiness, length and counting") {
        TestContext ctx;
        CHECK(truth("is_empty('')"));
        CHECK(truth("is_empty(unset)"));
        CHECK(truth("is_empty([])"));
        CHECK_FALSE(truth("is_empty(' ')"));
        CHECK_FALSE(truth("is_empty(0)"));
        CHECK_FALSE(truth("is_empty([''])"));
        CHECK(is_int(eval("len('hello')"), 5));
        CHECK(is_int(eval("len('héllo')"), 6));  // bytes, as Rust's str::len
        CHECK(is_int(eval("len([1, 2, 3])"), 3));
        CHECK(is_int(eval("len(12345)"), 5));
        CHECK(is_int(eval("len(unset)"), 0));
        CHECK(is_int(eval("count(recipients)", ctx), 2));
        CHECK(is_int(eval("count('x')"), 1));
        CHECK(is_int(eval("count('')"), 0));
        CHECK(is_int(eval("count(0)"), 1));
        CHECK(is_int(eval("count_chars('héllo')"), 5));
        CHECK(is_int(eval("count_spaces(' a b\\tc ')"), 4));
        CHECK(is_int(eval("count_uppercase('Hello World')"), 2));
        CHECK(is_int(eval("count_lowercase('Hello World')"), 8));
        CHECK(truth("is_number(1)"));
        CHECK(truth("is_number(1.5)"));
        CHECK(truth("is_number(true)"));
        CHECK_FALSE(truth("is_number('123')"));  // Stalwart checks the type, not the text
        CHECK(truth("has_digits('abc1')"));
        CHECK_FALSE(truth("has_digits('abc')"));
    }

    TEST_CASE("expr: case conversion and trimming") {
        TestContext ctx;
        CHECK(text("to_lowercase('HeLLo')") == "hello");
        CHECK(text("to_uppercase('hello')") == "HELLO");
        CHECK(text("lower('HeLLo')") == "hello");  // relaytrust's short aliases
        CHECK(text("upper('hello')") == "HELLO");
        CHECK(text("to_lowercase('ÄÖÜ ÉCOLE ΣΟΦΊΑ ПРИВЕТ')") == "äöü école σοφία привет");
        CHECK(text("to_uppercase('straße')") == "STRAßE");  // no special casing
        CHECK(text("to_lowercase(rcpt)", ctx) == "bob@example.org");
        CHECK(list_text("to_lowercase(['A', 'B'])") == "[a|b]");
        // Already lower-case text stays a view of the variable.
        Value same = eval("to_lowercase(helo_domain)", ctx);
        CHECK(same.as_string_view().data() == ctx.helo.data());
        CHECK(truth("is_uppercase('HELLO 1')"));
        CHECK_FALSE(truth("is_uppercase('HeLLO')"));
        CHECK(truth("is_lowercase('hello!')"));
        CHECK(truth("is_lowercase('123')"));  // no letters: vacuously true
        CHECK(text("trim(subject)", ctx) == "Hello World");
        CHECK(text("trim_start(subject)", ctx) == "Hello World  ");
        CHECK(text("trim_end(subject)", ctx) == "  Hello World");
        CHECK(text("trim('\\t x \\n')") == "x");
        CHECK(text("trim('\xC2\xA0x\xC2\xA0')") == "x");  // NBSP is whitespace
        // A trimmed variable is a view into the context's string.
        Value trimmed = eval("trim(subject)", ctx);
        CHECK(trimmed.as_string_view().data() == ctx.subject.data() + 2);
    }

    TEST_CASE("expr: e-mail helpers") {
        TestContext ctx;
        CHECK(text("email_part(sender, 'domain')", ctx) == "example.com");
        CHECK(text("email_part(sender, 'local')", ctx) == "john.doe");
        CHECK(text("email_part('a@b@c.org', 'local')") == "a@b");
        CHECK(text("email_part('no-at-sign', 'domain')").empty());
        CHECK(list_text("email_part(recipients, 'local')", ctx) == "[alice|bob]");
        CHECK(text("email_part(sender, 'do' + 'main')", ctx) == "example.com");
        CHECK(text("email_part(sender, listener)", ctx).empty());  // unknown part at run time
        auto err = compile_fail("email_part(sender, 'host')");
        CHECK(err.offset == 19);
        CHECK(err.message == "email_part() takes 'local' or 'domain', not 'host'");
        CHECK(truth("is_email('user@example.com')"));
        CHECK(truth("is_email('\"quoted user\"@example.com')"));
        CHECK_FALSE(truth("is_email('user@localhost')"));
        CHECK_FALSE(truth("is_email('a..b@example.com')"));
        CHECK_FALSE(truth("is_email('a@b@example.com')"));
        CHECK_FALSE(truth("is_email('user name@example.com')"));
    }

    TEST_CASE("expr: list functions") {
        TestContext ctx;
        CHECK(list_text("sort(['z', 'a', 'b'], true)") == "[a|b|z]");
        CHECK(list_text("sort(['z', 'a', 'b'], false)") == "[z|b|a]");
        CHECK(list_text("sort([3, 1.5, 2], true)") == "[1.5|2|3]");
        CHECK(list_text("sort(['b', 2, 'a', 1], true)") == "[1|2|a|b]");
        CHECK(list_text("sort('x', true)") == "[x]");
        CHECK(list_text("dedup(['a', 'b', 'a'])") == "[a|b]");
        CHECK(list_text("dedup([1, '1', 2])") == "[1|2]");
        CHECK(list_text("winnow(['a', '', 'b', ''])") == "[a|b]");
        CHECK(text("winnow('x')") == "x");
        CHECK(truth("is_intersect(['a', 'b'], ['b', 'c'])"));
        CHECK_FALSE(truth("is_intersect(['a', 'b'], ['c'])"));
        CHECK(truth("is_intersect(recipients, 'bob@example.org')", ctx));
        CHECK_FALSE(truth("is_intersect('a', 'a')"));
        CHECK(text("recipients[1]", ctx) == "bob@example.org");
        CHECK(text("recipients[2]", ctx).empty());
        CHECK(text("recipients['0']", ctx) == "alice@example.org");
        CHECK(text("sender[0]", ctx) == ctx.sender);  // a scalar is a one-item list
        CHECK(text("sender[1]", ctx).empty());
        CHECK(is_int(eval("[10, 20, 30][2]"), 30));
        CHECK(is_int(eval("[[1, 2], [3, 4]][1][0]"), 3));
        CHECK(text("split(sender, '@')[1]", ctx) == "example.com");
        CHECK(text("recipients[-1]", ctx).empty());
    }

    TEST_CASE("expr: splitting and substrings") {
        CHECK(list_text("split('a,b,,c', ',')") == "[a|b||c]");
        CHECK(list_text("split('ab', '')") == "[|a|b|]");
        CHECK(is_int(eval("count(split('', ','))"), 1));  // one empty piece
        CHECK(list_text("rsplit('a,b,c', ',')") == "[c|b|a]");
        CHECK(list_text("rsplit('aaa', 'aa')") == "[|a]");
        CHECK(list_text("split_once('a=b=c', '=')") == "[a|b=c]");
        CHECK(list_text("rsplit_once('a=b=c', '=')") == "[a=b|c]");
        CHECK(text("split_once('abc', '=')").empty());
        CHECK(list_text("split_n('a,b,c', ',', 1)") == "[a|b,c]");
        CHECK(list_text("split_n('a,b,c', ',', 0)") == "[a,b,c]");
        CHECK(list_text("split_n('a,b,c', ',', -1)") == "[a|b|c]");
        CHECK(list_text("split_n('ab', '', 1)") == "[|ab]");
        CHECK(list_text("split_words('hello wörld, foo  bar2')") == "[hello|foo|bar2]");
        CHECK(list_text("lines('a\\r\\nb\\nc\\n')") == "[a|b|c]");
        CHECK(list_text("lines('')") == "[]");
        CHECK(text("substring('hello world', 6, 5)") == "world");
        CHECK(text("substring('héllo', 1, 3)") == "éll");  // characters, not bytes
        CHECK(text("substring('abc', 5, 1)").empty());
        CHECK(text("strip_prefix('Re: hello', 'Re: ')") == "hello");
        CHECK(text("strip_prefix('hello', 'Re: ')").empty());  // Stalwart returns "" here
        CHECK(text("strip_suffix('file.txt', '.txt')") == "file");
        CHECK(text("strip_suffix('file', '.txt')").empty());
        CHECK(list_text("strip_prefix(['x-a', 'x-b'], 'x-')") == "[a|b]");
    }

    TEST_CASE("expr: hash, bit_and and if_then") {
        CHECK(text("hash('abc', 'md5')") == "900150983cd24fb0d6963f7d28e17f72");
        CHECK(text("hash('abc', 'sha1')") == "a9993e364706816aba3e25717850c26c9cd0d89d");
        CHECK(text("hash('abc', 'sha256')") ==
              "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
        CHECK(eval("hash('', 'sha512')").to_string().size() == 128);
        auto err = compile_fail("hash('abc', 'crc32')");
        CHECK(err.offset == 12);
        CHECK(err.message == "unknown hash algorithm 'crc32' (use md5, sha1, sha256 or sha512)");
        CHECK(is_int(eval("bit_and(12, 10)"), 8));
        CHECK(is_int(eval("bit_and('12', 10.9)"), 8));
        CHECK(is_int(eval("bit_and('x', 10)"), 0));
        CHECK(text("if_then(1 > 2, 'a', 'b')") == "b");
        CHECK(text("if_then('x', 'a', 'b')") == "a");
    }

    TEST_CASE("expr: functions relaytrust does not support") {
        for (const char* name :
             {"dns_query", "key_get", "key_exists", "key_set", "counter_incr", "counter_get",
              "sql_query", "is_local_domain", "is_local_address"}) {
            std::string source = std::string("listener == 'x' || ") + name + "('a', 'b')";
            auto err = compile_fail(source);
            CHECK(err.offset == 19);
            CHECK(err.message ==
                  std::string("function '") + name + "' is not supported by relaytrust");
        }
        CHECK(compile_fail("system('hostname') == 'mx'").message ==
              "function 'system' is not supported by relaytrust");
        CHECK(compile_fail("$domain == 'x'").message ==
              "global variables ('$domain') are not supported by relaytrust");
    }

    TEST_CASE("expr: unknown functions and arity") {
        auto err = compile_fail("tolower(sender)");
        CHECK(err.offset == 0);
        CHECK(err.message == "unknown function 'tolower' (did you mean to_lowercase(s)?)");
        CHECK(compile_fail("domain_part(sender)").message ==
              "unknown function 'domain_part' (did you mean email_part(address, 'domain')?)");
        CHECK(compile_fail("frobnicate(1)").message == "unknown function 'frobnicate'");
        err = compile_fail("1 + contains(sender)");
        CHECK(err.offset == 4);
        CHECK(err.message == "function 'contains' expects 2 arguments, got 1");
        CHECK(compile_fail("trim('a', 'b')").message ==
              "function 'trim' expects 1 argument, got 2");
        CHECK(compile_fail("substring('abc')").message ==
              "function 'substring' expects 3 arguments, got 1");
    }

    TEST_CASE("expr: syntax errors carry offsets") {
        auto err = compile_fail("sender == 'abc");
        CHECK(err.offset == 10);
        CHECK(err.message == "unterminated string literal (missing closing ')");
        err = compile_fail("a == (b");
        CHECK(err.message.find("unknown variable 'a'") == 0);  // first problem wins
        err = compile_fail("1 + (2 * 3");
        CHECK(err.offset == 10);
        CHECK(err.message ==
              "expected ')' to close '(' opened at offset 4, found the end of the "
              "expression");
        err = compile_fail("(1 + 2))");
        CHECK(err.offset == 7);
        CHECK(err.message == "unmatched ')'");
        err = compile_fail("listener 'x'");
        CHECK(err.offset == 9);
        CHECK(err.message == "expected an operator or the end of the expression, found ''x''");
        err = compile_fail("");
        CHECK(err.offset == 0);
        CHECK(err.message == "empty expression");
        CHECK(compile_fail("   ").message == "empty expression");
        err = compile_fail("1 + ");
        CHECK(err.offset == 4);
        CHECK(err.message == "unexpected end of the expression, expected a value");
        err = compile_fail("1 + * 2");
        CHECK(err.offset == 4);
        CHECK(err.message == "expected a value, found '*'");
        err = compile_fail("listener # 'x'");
        CHECK(err.offset == 9);
        CHECK(err.message == "unexpected character '#'");
        CHECK(compile_fail("1 % 2").message == "unexpected character '%'");  // no % in Stalwart
        CHECK(compile_fail("a == '\x01' }").message == "unknown variable 'a'");
        CHECK(compile_fail("remote_port == 25 }").message == "unexpected character '}'");
        err = compile_fail("remote_ip == 10.0.0.1");
        CHECK(err.offset == 13);
        CHECK(err.message == "invalid number '10.0.0.1' (quote IP addresses: '10.0.0.1')");
        CHECK(compile_fail("1.2.3").message == "invalid number '1.2.3'");
        CHECK(compile_fail("1e5").message == "invalid number '1e5'");
        CHECK(compile_fail("99999999999999999999").message ==
              "integer '99999999999999999999' is out of range");
        err = compile_fail("[1, 2");
        CHECK(err.offset == 5);
        CHECK(
            err.message ==
            "expected ',' or ']' in the list opened at offset 0, found the end of the expression");
        err = compile_fail("recipients[0");
        CHECK(err.message.find("expected ']' to close '[' opened at offset 10") == 0);
        err = compile_fail("contains(sender 'x')");
        CHECK(err.offset == 16);
        CHECK(err.message.find("expected ',' or ')' after argument 1 of contains() opened at "
                               "offset 8") == 0);
        CHECK(compile_fail("contains(sender,)").message == "expected a value, found ')'");
        CHECK(compile_fail("$").message == "expected a capture group number after '$'");
        CHECK(compile_fail("'it''s'").message.find("expected an operator") == 0);
    }

    TEST_CASE("expr: nesting is capped") {
        std::string deep = std::string(300, '(') + "1" + std::string(300, ')');
        auto err = compile_fail(deep);
        CHECK(err.message == "expression is nested too deeply (limit 256 levels)");
        CHECK(compile_fail(std::string(300, '!') + "1").message ==
              "expression is nested too deeply (limit 256 levels)");
        std::string calls;
        for (int i = 0; i < 300; ++i)
            calls += "trim(";
        calls += "'x'" + std::string(300, ')');
        CHECK(compile_fail(calls).message.find("nested too deeply") != std::string::npos);
        // 200 levels are fine, and long flat chains do not count as nesting.
        CHECK(is_int(eval(std::string(200, '(') + "7" + std::string(200, ')')), 7));
        std::string chain = "remote_port == 0";
        for (int i = 1; i < 2000; ++i)
            chain += " || remote_port == " + std::to_string(i);
        CHECK(truth(chain));
        std::string sum = "1";
        for (int i = 0; i < 2000; ++i)
            sum += " + 1";
        CHECK(is_int(eval(sum), 2001));
    }

    TEST_CASE("expr: arbitrary input never crashes") {
        // A deterministic mini-fuzzer over operators, literals, names and raw bytes; the
        // libFuzzer target (fuzz/expression_fuzz.cpp) does the same at scale.
        static const char* kPieces[] = {"(",
                                        ")",
                                        "[",
                                        "]",
                                        ",",
                                        "'",
                                        "\"",
                                        "\\",
                                        "!",
                                        "-",
                                        "+",
                                        "*",
                                        "/",
                                        "==",
                                        "!=",
                                        "<",
                                        ">=",
                                        "&&",
                                        "||",
                                        "^",
                                        "=",
                                        "&",
                                        "|",
                                        " ",
                                        "1",
                                        "0",
                                        "1.5",
                                        "1d",
                                        "$1",
                                        "true",
                                        "'a'",
                                        "''",
                                        "sender",
                                        "recipients",
                                        "unset",
                                        "score",
                                        "contains(",
                                        "matches('(a|b)*', ",
                                        "split(",
                                        "sort(",
                                        "is_ip_in_cidr(",
                                        "header(",
                                        "in_network(",
                                        "if_then(",
                                        "substring(",
                                        "split_n(",
                                        "[1,2]",
                                        "'::1'",
                                        "'10.0.0.0/8'",
                                        "\xff",
                                        "\xc3\xa9",
                                        "\x00"};
        std::mt19937 rng(12345);
        TestContext ctx;
        int compiled = 0;
        for (int round = 0; round < 20000; ++round) {
            std::string source;
            int pieces = 1 + static_cast<int>(rng() % 12);
            for (int i = 0; i < pieces; ++i) {
                const char* piece = kPieces[rng() % (sizeof kPieces / sizeof *kPieces)];
                source += piece[0] == '\0' ? std::string(1, '\0') : std::string(piece);
            }
            CompileError error;
            auto e = Expression::compile(source, test_symbols(), error);
            if (e) {
                ++compiled;
                (void)e->evaluate(ctx).to_string();
            } else {
                CHECK(error.offset <= source.size());
                CHECK_FALSE(error.message.empty());
            }
        }
        CHECK(compiled > 100);  // the generator does reach the evaluator
    }
}

}  // namespace relaytrust::expr
