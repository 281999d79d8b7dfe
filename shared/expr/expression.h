// Stalwart-compatible expressions: compiled once when the policy loads, evaluated per stage.
//
// Syntax and semantics follow Stalwart's expression language so an admin can copy a condition
// between Stalwart's config and relaytrust: literals true/false, integers, floats,
// 'single-quoted strings', lists [a, b]; operators == != < <= > >= && || ! + - * /;
// functions (is_ip_in_cidr, in_network, contains, starts_with, ends_with, matches, is_empty,
// lower, upper, header, has_header, ...); variables by name.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace relaytrust::net {
class NetworkSet;
}

namespace relaytrust::expr {

using VariableId = std::uint16_t;

// A runtime value. Strings a context hands out are borrowed (string_view) so that evaluation
// does not copy session data; values computed during evaluation own their text.
class Value {
  public:
    using List = std::vector<Value>;
    using Storage = std::variant<std::monostate, bool, std::int64_t, double, std::string_view,
                                 std::string, std::shared_ptr<const List>>;

    Value() = default;
    Value(bool b) : v_(b) {}
    Value(std::int64_t i) : v_(i) {}
    Value(int i) : v_(static_cast<std::int64_t>(i)) {}
    Value(double d) : v_(d) {}
    // Borrowed: the referenced text must outlive the evaluation.
    static Value borrowed(std::string_view s) {
        Value v;
        v.v_ = s;
        return v;
    }
    static Value owned(std::string s) {
        Value v;
        v.v_ = std::move(s);
        return v;
    }
    static Value list(List items) {
        Value v;
        v.v_ = std::make_shared<const List>(std::move(items));
        return v;
    }

    bool is_empty_value() const { return std::holds_alternative<std::monostate>(v_); }
    bool is_string() const {
        return std::holds_alternative<std::string_view>(v_) ||
               std::holds_alternative<std::string>(v_);
    }
    bool is_number() const {
        return std::holds_alternative<std::int64_t>(v_) || std::holds_alternative<double>(v_);
    }
    bool is_list() const { return std::holds_alternative<std::shared_ptr<const List>>(v_); }

    // Conversions follow Stalwart: "" / 0 / empty list / empty are false; strings that parse
    // as numbers compare as numbers when compared with a number.
    bool to_bool() const;
    std::string_view as_string_view() const;  // "" for non-strings
    std::string to_string() const;            // any value rendered as text
    std::optional<double> to_number() const;  // numbers, numeric strings, bools
    const List* as_list() const;              // nullptr for non-lists

    const Storage& storage() const { return v_; }

  private:
    Storage v_;
};

// What the expression can see at run time. Implemented by the engine over a Session.
class Context {
  public:
    virtual ~Context() = default;
    virtual Value variable(VariableId id) const = 0;
    // First instance of a header, unfolded and trimmed; nullopt when absent.
    virtual std::optional<std::string_view> header(std::string_view name) const = 0;
};

// Compile-time environment: which names exist. Unknown names are compile errors.
struct Symbols {
    // Variable name -> id, or nullopt when the name is not a variable.
    std::function<std::optional<VariableId>(std::string_view)> variable;
    // Named network set (for in_network(ip, 'name')) or nullptr when unknown.
    std::function<const net::NetworkSet*(std::string_view)> network;
};

struct CompileError {
    std::size_t offset = 0;  // byte offset into the source text
    std::string message;     // what was expected, e.g. "expected ')' after function arguments"
};

class Node;  // implementation detail (compiled tree)

class Expression {
  public:
    Expression();
    ~Expression();
    Expression(Expression&&) noexcept;
    Expression& operator=(Expression&&) noexcept;
    Expression(const Expression&) = delete;
    Expression& operator=(const Expression&) = delete;

    // Compiles source text. On error returns nullopt and fills `error`.
    static std::optional<Expression> compile(std::string_view source, const Symbols& symbols,
                                             CompileError& error);
    // A constant expression (used for plain JSON values such as numbers in the policy).
    static Expression constant(Value value);

    // The result may borrow text from `context` (variables are handed out as views), which must
    // outlive its use; it never points into this Expression. An empty (default) Expression
    // evaluates to the empty value.
    Value evaluate(const Context& context) const;
    bool evaluate_bool(const Context& context) const { return evaluate(context).to_bool(); }
    const std::string& source() const { return source_; }

  private:
    std::unique_ptr<const Node> root_;
    std::string source_;
    bool uses_captures_ = false;  // reads $N, so matches() must record its groups
    // The string literals' storage, sorted by address: evaluation hands out views of literals,
    // and evaluate() copies a result that points into one (see detach()).
    std::vector<std::string_view> literals_;
    Value detach(Value value) const;
};

}  // namespace relaytrust::expr
