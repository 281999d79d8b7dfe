// The compiled form of an expression: a tree evaluated recursively. Its height is bounded by
// the parser's nesting limit, and same-precedence chains ("a || b || c", "a + b - c") are one
// n-ary node, so long conditions do not deepen it. Private to shared/expr.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "expr/expression.h"
#include "expr/ip.h"
#include "expr/pattern.h"

namespace relaytrust::expr {

enum class Function : std::uint8_t {
    // Stalwart's synchronous functions (crates/common/src/expr/functions).
    Count,
    Sort,
    Dedup,
    Winnow,
    IsIntersect,
    IsEmail,
    EmailPart,
    IsEmpty,
    IsNumber,
    BitAnd,
    IsIpAddr,
    IsIpv4Addr,
    IsIpv6Addr,
    IsIpInCidr,
    IpReverseName,
    Trim,
    TrimEnd,
    TrimStart,
    Len,
    ToLowercase,
    ToUppercase,
    IsUppercase,
    IsLowercase,
    HasDigits,
    CountSpaces,
    CountUppercase,
    CountLowercase,
    CountChars,
    Contains,
    ContainsIgnoreCase,
    EqIgnoreCase,
    StartsWith,
    EndsWith,
    Lines,
    Substring,
    StripPrefix,
    StripSuffix,
    Split,
    Rsplit,
    SplitOnce,
    RsplitOnce,
    SplitN,
    SplitWords,
    Hash,
    IfThen,
    Matches,  // a tokenizer special form in Stalwart
    // relaytrust's own.
    InNetwork,
    Header,
    HasHeader,
};

struct FunctionInfo {
    std::string_view name;
    Function id;
    std::uint8_t arity;
    bool foldable;  // pure: a call with constant arguments is evaluated at compile time
};

const FunctionInfo* find_function(std::string_view name);
// Every function name, in documentation order.
const std::vector<FunctionInfo>& all_functions();
// Stalwart functions that need server state; naming them is a clear compile error.
bool is_unsupported_stalwart_function(std::string_view name);
// "did you mean" for names people guess (lower → to_lowercase ...), or "".
std::string_view function_hint(std::string_view name);

enum class BinaryOp : std::uint8_t { Add, Subtract, Multiply, Divide, Xor, Eq, Ne, Lt, Le, Gt, Ge };

enum class NodeKind : std::uint8_t {
    Constant,  // value
    Variable,  // variable
    Capture,   // $N from the last matches()
    List,      // [children...]
    Index,     // children[0][children[1]]
    Not,       // !children[0]
    Negate,    // -children[0]
    Chain,     // children[0] ops[0] children[1] ops[1] ... (left to right)
    And,       // short-circuit over children
    Or,        // short-circuit over children
    Call,      // function(children...)
};

class Node {
  public:
    NodeKind kind = NodeKind::Constant;
    std::size_t offset = 0;  // where the node starts in the source
    Value value;             // Constant (strings owned; evaluation hands out views)
    VariableId variable = 0;
    std::uint32_t capture = 0;
    Function function = Function::Count;
    std::vector<std::unique_ptr<Node>> children;
    std::vector<BinaryOp> ops;  // Chain

    // Compile-time arguments of some calls.
    std::optional<Pattern> pattern;            // matches(): the regex; children = {haystack}
    std::optional<ip::CidrMatcher> cidr;       // is_ip_in_cidr with a literal CIDR; children = {ip}
    const net::NetworkSet* network = nullptr;  // in_network(); children = {ip}
};

// Run-time state of one evaluation.
struct EvalState {
    const Context& context;
    bool record_captures = false;       // only when the expression reads $N
    std::vector<std::string> captures;  // groups of the last matches()
};

Value evaluate_node(const Node& node, EvalState& state);
Value call_function(const Node& node, EvalState& state);

}  // namespace relaytrust::expr
