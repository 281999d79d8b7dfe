// Tokenizer, parser and evaluator for Stalwart-compatible expressions.
//
// Stalwart parses with a shunting-yard over its tokenizer (crates/common/src/expr/parser.rs);
// this is a recursive-descent parser for the same grammar and precedence, which gives precise
// error offsets. Where Stalwart silently accepts malformed input (e.g. "a b"), relaytrust
// reports an error instead.
#include "expr/expression.h"

#include <algorithm>
#include <charconv>
#include <functional>

#include "expr/digest.h"
#include "expr/node.h"
#include "expr/value_ops.h"

namespace relaytrust::expr {

namespace {

// Nesting limit (parentheses, calls, lists, indexes, unary operators). At the limit,
// compiling needs roughly 256 KiB of stack and evaluating 192 KiB (measured, -O2 and -O0).
constexpr int kMaxDepth = 256;

// --- tokens ----------------------------------------------------------------------------------

enum class Tok {
    End,
    Error,
    Integer,
    Float,
    String,
    Bool,
    Identifier,
    Capture,
    LParen,
    RParen,
    LBracket,
    RBracket,
    Comma,
    Or,
    And,
    Xor,
    Not,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Plus,
    Minus,
    Star,
    Slash,
};

struct Token {
    Tok kind = Tok::End;
    std::size_t offset = 0;
    std::size_t length = 0;
    std::string text;  // decoded string literal / identifier
    std::int64_t integer = 0;
    double real = 0;
    bool boolean = false;
};

bool is_word_char(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '$' || c == '.';
}

std::string describe_char(char c) {
    auto u = static_cast<unsigned char>(c);
    if (u >= 0x20 && u < 0x7F) return std::string("'") + c + "'";
    static constexpr char kHex[] = "0123456789ABCDEF";
    return std::string("byte 0x") + kHex[u >> 4] + kHex[u & 0x0F];
}

// Stalwart accepts a duration where a number is expected: digits and one unit (d, h, m, s,
// ms), converted to milliseconds ("1d" == 86400000).
std::optional<std::int64_t> parse_duration(std::string_view word) {
    std::size_t digits = 0;
    while (digits < word.size() && word[digits] >= '0' && word[digits] <= '9')
        ++digits;
    if (digits == 0) return std::nullopt;
    std::string unit(word.substr(digits));
    std::transform(unit.begin(), unit.end(), unit.begin(),
                   [](char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c; });
    std::int64_t scale;
    if (unit == "d") {
        scale = 86'400'000;
    } else if (unit == "h") {
        scale = 3'600'000;
    } else if (unit == "m") {
        scale = 60'000;
    } else if (unit == "s") {
        scale = 1'000;
    } else if (unit == "ms") {
        scale = 1;
    } else {
        return std::nullopt;
    }
    auto count = detail::parse_int64(word.substr(0, digits));
    std::int64_t millis;
    if (!count || __builtin_mul_overflow(*count, scale, &millis)) return std::nullopt;
    return millis;
}

class Lexer {
  public:
    explicit Lexer(std::string_view source) : src_(source) {}

    // On a lexical error returns Tok::Error and fills `error`.
    Token next(CompileError& error) {
        while (pos_ < src_.size() && (src_[pos_] == ' ' || src_[pos_] == '\t' ||
                                      src_[pos_] == '\r' || src_[pos_] == '\n')) {
            ++pos_;
        }
        Token t;
        t.offset = pos_;
        if (pos_ >= src_.size()) return t;  // End
        char c = src_[pos_];
        if (is_word_char(c)) return word(t, error);
        if (c == '\'' || c == '"') return string(t, error);
        auto single = [&](Tok kind, std::size_t len = 1) {
            t.kind = kind;
            t.length = len;
            pos_ += len;
            return t;
        };
        char n = pos_ + 1 < src_.size() ? src_[pos_ + 1] : '\0';
        switch (c) {
            case '(':
                return single(Tok::LParen);
            case ')':
                return single(Tok::RParen);
            case '[':
                return single(Tok::LBracket);
            case ']':
                return single(Tok::RBracket);
            case ',':
                return single(Tok::Comma);
            case '+':
                return single(Tok::Plus);
            case '-':
                return single(Tok::Minus);
            case '*':
                return single(Tok::Star);
            case '/':
                return single(Tok::Slash);
            case '^':
                return single(Tok::Xor);
            // Stalwart accepts the single-character forms as synonyms.
            case '&':
                return single(Tok::And, n == '&' ? 2 : 1);
            case '|':
                return single(Tok::Or, n == '|' ? 2 : 1);
            case '!':
                return n == '=' ? single(Tok::Ne, 2) : single(Tok::Not);
            case '=':
                if (n == '=') return single(Tok::Eq, 2);
                if (n == '>') return single(Tok::Ge, 2);
                if (n == '<') return single(Tok::Le, 2);
                return single(Tok::Eq);
            case '<':
                return n == '=' ? single(Tok::Le, 2) : single(Tok::Lt);
            case '>':
                return n == '=' ? single(Tok::Ge, 2) : single(Tok::Gt);
            default:
                break;
        }
        return fail(t, error, pos_, "unexpected character " + describe_char(c));
    }

  private:
    Token fail(Token& t, CompileError& error, std::size_t offset, std::string message) {
        t.kind = Tok::Error;
        error.offset = offset;
        error.message = std::move(message);
        return t;
    }

    Token word(Token& t, CompileError& error) {
        std::size_t start = pos_;
        bool has_digit = false, has_alpha = false, has_dot = false;
        while (pos_ < src_.size() && is_word_char(src_[pos_])) {
            char c = src_[pos_++];
            if (c >= '0' && c <= '9') {
                has_digit = true;
            } else if (c == '.') {
                has_dot = true;
            } else {
                has_alpha = true;
            }
        }
        std::string_view w = src_.substr(start, pos_ - start);
        t.length = w.size();
        if (w[0] == '$') {
            std::string_view rest = w.substr(1);
            if (rest.empty())
                return fail(t, error, start, "expected a capture group number after '$'");
            if (!std::all_of(rest.begin(), rest.end(),
                             [](char c) { return c >= '0' && c <= '9'; })) {
                return fail(
                    t, error, start,
                    "global variables ('" + std::string(w) + "') are not supported by relaytrust");
            }
            auto n = detail::parse_uint64(rest);
            if (!n || *n > 0xFFFF) return fail(t, error, start, "capture group number too large");
            t.kind = Tok::Capture;
            t.integer = static_cast<std::int64_t>(*n);
            return t;
        }
        if (has_digit && !has_alpha) {
            if (has_dot) {
                auto d = detail::parse_double(w);
                if (!d) {
                    std::string message = "invalid number '" + std::string(w) + "'";
                    if (std::count(w.begin(), w.end(), '.') == 3) {
                        message += " (quote IP addresses: '" + std::string(w) + "')";
                    }
                    return fail(t, error, start, message);
                }
                t.kind = Tok::Float;
                t.real = *d;
                return t;
            }
            auto i = detail::parse_int64(w);
            if (!i)
                return fail(t, error, start, "integer '" + std::string(w) + "' is out of range");
            t.kind = Tok::Integer;
            t.integer = *i;
            return t;
        }
        if (w[0] >= '0' && w[0] <= '9') {
            if (auto millis = parse_duration(w)) {
                t.kind = Tok::Integer;
                t.integer = *millis;
                return t;
            }
            return fail(t, error, start, "invalid number '" + std::string(w) + "'");
        }
        if (w == "true" || w == "false") {
            t.kind = Tok::Bool;
            t.boolean = w == "true";
            return t;
        }
        t.kind = Tok::Identifier;
        t.text = std::string(w);
        return t;
    }

    // Quotes are ' or ". Escapes: \n \r \t become control characters and \' \" a quote; any
    // other backslash is kept as written (so regex escapes such as '\.' or '\d' reach the
    // regex engine unchanged, as they do in Stalwart).
    Token string(Token& t, CompileError& error) {
        std::size_t open = pos_;
        char quote = src_[pos_++];
        std::string out;
        while (pos_ < src_.size()) {
            char c = src_[pos_];
            if (c == quote) {
                ++pos_;
                t.kind = Tok::String;
                t.length = pos_ - open;
                t.text = std::move(out);
                return t;
            }
            if (c == '\\' && pos_ + 1 < src_.size()) {
                char e = src_[pos_ + 1];
                switch (e) {
                    case 'n':
                        out += '\n';
                        break;
                    case 'r':
                        out += '\r';
                        break;
                    case 't':
                        out += '\t';
                        break;
                    case '\'':
                    case '"':
                        out += e;
                        break;
                    default:
                        out += '\\';
                        out += e;
                        break;
                }
                pos_ += 2;
                continue;
            }
            out += c;
            ++pos_;
        }
        return fail(t, error, open,
                    std::string("unterminated string literal (missing closing ") + quote + ")");
    }

    std::string_view src_;
    std::size_t pos_ = 0;
};

// --- constant folding ------------------------------------------------------------------------

class NoContext final : public Context {
  public:
    Value variable(VariableId) const override { return Value(); }
    std::optional<std::string_view> header(std::string_view) const override { return std::nullopt; }
};

bool all_children_constant(const Node& n) {
    return std::all_of(n.children.begin(), n.children.end(),
                       [](const auto& c) { return c->kind == NodeKind::Constant; });
}

std::unique_ptr<Node> make_node(NodeKind kind, std::size_t offset) {
    auto n = std::make_unique<Node>();
    n->kind = kind;
    n->offset = offset;
    return n;
}

std::unique_ptr<Node> make_constant(Value v, std::size_t offset) {
    auto n = make_node(NodeKind::Constant, offset);
    n->value = std::move(v);
    return n;
}

// Evaluates a node whose inputs are all constants once, at compile time.
std::unique_ptr<Node> fold(std::unique_ptr<Node> n) {
    bool foldable = n->kind != NodeKind::Variable && n->kind != NodeKind::Capture &&
                    n->kind != NodeKind::Constant && all_children_constant(*n);
    if (foldable && n->kind == NodeKind::Call) {
        const FunctionInfo* info = nullptr;
        for (const auto& f : all_functions()) {
            if (f.id == n->function) info = &f;
        }
        foldable = info && info->foldable;
    }
    if (!foldable) return n;
    NoContext no_context;
    EvalState state{no_context, false, {}};
    // The result may point into the children's strings, which are about to go away.
    return make_constant(detail::deep_owned(evaluate_node(*n, state)), n->offset);
}

// --- parser ----------------------------------------------------------------------------------

class Parser {
  public:
    Parser(std::string_view source, const Symbols& symbols)
        : src_(source), lexer_(source), symbols_(symbols) {
        advance();
    }

    std::unique_ptr<Node> parse() {
        if (failed()) return nullptr;
        if (tok_.kind == Tok::End) return error_at(0, "empty expression");
        auto root = parse_expression();
        if (!root) return nullptr;
        if (tok_.kind != Tok::End) {
            if (tok_.kind == Tok::RParen) return error_at(tok_.offset, "unmatched ')'");
            return error_at(
                tok_.offset,
                "expected an operator or the end of the expression, found " + describe(tok_));
        }
        return root;
    }

    bool uses_captures() const { return uses_captures_; }
    const CompileError& error() const { return error_; }

  private:
    // RAII nesting counter: recursion depth is what bounds stack use here and in evaluation.
    class Nesting {
      public:
        explicit Nesting(Parser& p) : p_(p) { ++p_.depth_; }
        ~Nesting() { --p_.depth_; }
        bool too_deep() const { return p_.depth_ > kMaxDepth; }

      private:
        Parser& p_;
    };

    bool failed() const { return failed_; }

    std::unique_ptr<Node> error_at(std::size_t offset, std::string message) {
        if (!failed_) {
            failed_ = true;
            error_.offset = offset;
            error_.message = std::move(message);
        }
        return nullptr;
    }

    void advance() {
        if (failed_) return;
        CompileError lex_error;
        tok_ = lexer_.next(lex_error);
        if (tok_.kind == Tok::Error) error_at(lex_error.offset, lex_error.message);
    }

    std::string describe(const Token& t) const {
        if (t.kind == Tok::End) return "the end of the expression";
        std::string_view text = src_.substr(t.offset, std::min<std::size_t>(t.length, 40));
        return "'" + std::string(text) + (t.length > 40 ? "...'" : "'");
    }

    // Error builders are kept out of line: the parse functions recurse once per nesting level
    // and should not carry message temporaries in their stack frames.
    [[gnu::cold]] [[gnu::noinline]] std::unique_ptr<Node> too_deep() {
        return error_at(tok_.offset, "expression is nested too deeply (limit " +
                                         std::to_string(kMaxDepth) + " levels)");
    }
    // "<expected> ... opened at offset N, found X" at the current token.
    [[gnu::cold]] [[gnu::noinline]] std::unique_ptr<Node> unclosed(std::string expected,
                                                                   std::size_t open) {
        return error_at(tok_.offset, std::move(expected) + " opened at offset " +
                                         std::to_string(open) + ", found " + describe(tok_));
    }
    [[gnu::cold]] [[gnu::noinline]] std::unique_ptr<Node> expected_value() {
        if (tok_.kind == Tok::End) {
            return error_at(tok_.offset, "unexpected end of the expression, expected a value");
        }
        return error_at(tok_.offset, "expected a value, found " + describe(tok_));
    }

    std::unique_ptr<Node> parse_expression() {
        Nesting nesting(*this);
        if (nesting.too_deep()) return too_deep();
        return parse_binary();
    }

    // Binary operators are parsed iteratively (operator-precedence, like Stalwart's
    // shunting-yard) so that only parentheses, calls, lists and unary operators recurse: that
    // keeps the stack needed per nesting level small.
    struct BinaryInfo {
        int level;  // 1 = ||, 2 = &&, 3 = ^, 4 = == !=, 5 = < <= > >=, 6 = + -, 7 = * /
        NodeKind kind;
        BinaryOp op;
    };

    static std::optional<BinaryInfo> binary_info(Tok t) {
        switch (t) {
            case Tok::Or:
                return BinaryInfo{1, NodeKind::Or, BinaryOp::Xor};
            case Tok::And:
                return BinaryInfo{2, NodeKind::And, BinaryOp::Xor};
            case Tok::Xor:
                return BinaryInfo{3, NodeKind::Chain, BinaryOp::Xor};
            case Tok::Eq:
                return BinaryInfo{4, NodeKind::Chain, BinaryOp::Eq};
            case Tok::Ne:
                return BinaryInfo{4, NodeKind::Chain, BinaryOp::Ne};
            case Tok::Lt:
                return BinaryInfo{5, NodeKind::Chain, BinaryOp::Lt};
            case Tok::Le:
                return BinaryInfo{5, NodeKind::Chain, BinaryOp::Le};
            case Tok::Gt:
                return BinaryInfo{5, NodeKind::Chain, BinaryOp::Gt};
            case Tok::Ge:
                return BinaryInfo{5, NodeKind::Chain, BinaryOp::Ge};
            case Tok::Plus:
                return BinaryInfo{6, NodeKind::Chain, BinaryOp::Add};
            case Tok::Minus:
                return BinaryInfo{6, NodeKind::Chain, BinaryOp::Subtract};
            case Tok::Star:
                return BinaryInfo{7, NodeKind::Chain, BinaryOp::Multiply};
            case Tok::Slash:
                return BinaryInfo{7, NodeKind::Chain, BinaryOp::Divide};
            default:
                return std::nullopt;
        }
    }

    static int chain_level(BinaryOp op) {
        switch (op) {
            case BinaryOp::Xor:
                return 3;
            case BinaryOp::Eq:
            case BinaryOp::Ne:
                return 4;
            case BinaryOp::Lt:
            case BinaryOp::Le:
            case BinaryOp::Gt:
            case BinaryOp::Ge:
                return 5;
            case BinaryOp::Add:
            case BinaryOp::Subtract:
                return 6;
            default:
                return 7;
        }
    }

    // lhs OP rhs. A left operand that is already an n-ary node of the same precedence level
    // grows instead of nesting ("a || b || c" is one Or node, "a + b - c" one Chain): these
    // operators are left-associative, so the left fold is the same value, and long conditions
    // do not deepen the tree.
    static std::unique_ptr<Node> combine(std::unique_ptr<Node> lhs, const BinaryInfo& info,
                                         std::unique_ptr<Node> rhs) {
        bool same_level = lhs->kind == info.kind && (info.kind != NodeKind::Chain ||
                                                     chain_level(lhs->ops.front()) == info.level);
        std::unique_ptr<Node> n;
        if (same_level) {
            n = std::move(lhs);
        } else {
            n = make_node(info.kind, lhs->offset);
            n->children.push_back(std::move(lhs));
        }
        if (info.kind == NodeKind::Chain) n->ops.push_back(info.op);
        n->children.push_back(std::move(rhs));
        return fold(std::move(n));
    }

    std::unique_ptr<Node> parse_binary() {
        std::vector<std::unique_ptr<Node>> operands;
        std::vector<BinaryInfo> operators;
        auto reduce = [&] {
            auto rhs = std::move(operands.back());
            operands.pop_back();
            auto lhs = std::move(operands.back());
            operands.pop_back();
            operands.push_back(combine(std::move(lhs), operators.back(), std::move(rhs)));
            operators.pop_back();
        };
        auto first = parse_unary();
        if (!first) return nullptr;
        operands.push_back(std::move(first));
        while (auto info = binary_info(tok_.kind)) {
            while (!operators.empty() && operators.back().level >= info->level)
                reduce();
            operators.push_back(*info);
            advance();
            if (failed()) return nullptr;
            auto operand = parse_unary();
            if (!operand) return nullptr;
            operands.push_back(std::move(operand));
        }
        while (!operators.empty())
            reduce();
        return std::move(operands.back());
    }

    // Unary operators bind tighter than every binary operator (as in Stalwart and C).
    std::unique_ptr<Node> parse_unary() {
        if (tok_.kind != Tok::Not && tok_.kind != Tok::Minus) return parse_postfix();
        Nesting nesting(*this);
        if (nesting.too_deep()) return too_deep();
        auto n = make_node(tok_.kind == Tok::Not ? NodeKind::Not : NodeKind::Negate, tok_.offset);
        advance();
        if (failed()) return nullptr;
        auto operand = parse_unary();
        if (!operand) return nullptr;
        n->children.push_back(std::move(operand));
        return fold(std::move(n));
    }

    std::unique_ptr<Node> parse_postfix() {
        auto n = parse_primary();
        while (n && tok_.kind == Tok::LBracket) {
            std::size_t open = tok_.offset;
            advance();
            if (failed()) return nullptr;
            auto index = parse_expression();
            if (!index) return nullptr;
            if (tok_.kind != Tok::RBracket) return unclosed("expected ']' to close '['", open);
            advance();
            auto access = make_node(NodeKind::Index, n->offset);
            access->children.push_back(std::move(n));
            access->children.push_back(std::move(index));
            n = fold(std::move(access));
        }
        return failed() ? nullptr : std::move(n);
    }

    std::unique_ptr<Node> parse_primary() {
        std::size_t offset = tok_.offset;
        switch (tok_.kind) {
            case Tok::Integer:
            case Tok::Float:
            case Tok::Bool:
            case Tok::String: {
                Value v = tok_.kind == Tok::Integer ? Value(tok_.integer)
                          : tok_.kind == Tok::Float ? Value(tok_.real)
                          : tok_.kind == Tok::Bool  ? Value(tok_.boolean)
                                                    : Value::owned(std::move(tok_.text));
                advance();
                return make_constant(std::move(v), offset);
            }
            case Tok::Capture: {
                auto n = make_node(NodeKind::Capture, offset);
                n->capture = static_cast<std::uint32_t>(tok_.integer);
                uses_captures_ = true;
                advance();
                return n;
            }
            case Tok::LParen: {
                advance();
                if (failed()) return nullptr;
                auto inner = parse_expression();
                if (!inner) return nullptr;
                if (tok_.kind != Tok::RParen) return unclosed("expected ')' to close '('", offset);
                advance();
                return inner;
            }
            case Tok::LBracket:
                return parse_list(offset);
            case Tok::Identifier: {
                Name name{std::move(tok_.text), offset};
                advance();
                if (failed()) return nullptr;
                if (tok_.kind == Tok::LParen) return parse_call(name);
                return resolve_variable(name);
            }
            default:
                return expected_value();
        }
    }

    std::unique_ptr<Node> parse_list(std::size_t open) {
        auto n = make_node(NodeKind::List, open);
        advance();
        if (failed()) return nullptr;
        if (tok_.kind == Tok::RBracket) {
            advance();
            return fold(std::move(n));
        }
        while (true) {
            auto item = parse_expression();
            if (!item) return nullptr;
            n->children.push_back(std::move(item));
            if (tok_.kind == Tok::Comma) {
                advance();
                if (failed()) return nullptr;
                continue;
            }
            if (tok_.kind == Tok::RBracket) {
                advance();
                break;
            }
            return unclosed("expected ',' or ']' in the list", open);
        }
        return failed() ? nullptr : fold(std::move(n));
    }

    struct Name {
        std::string text;
        std::size_t offset;
    };

    std::unique_ptr<Node> resolve_variable(const Name& name) {
        std::optional<VariableId> id;
        if (symbols_.variable) id = symbols_.variable(name.text);
        if (id) {
            auto n = make_node(NodeKind::Variable, name.offset);
            n->variable = *id;
            return n;
        }
        if (find_function(name.text) || is_unsupported_stalwart_function(name.text)) {
            return error_at(name.offset, "function '" + name.text +
                                             "' needs its arguments: " + name.text + "(...)");
        }
        return error_at(name.offset, "unknown variable '" + name.text + "'");
    }

    [[gnu::cold]] [[gnu::noinline]] std::unique_ptr<Node> bad_function(const Name& name) {
        if (is_unsupported_stalwart_function(name.text)) {
            return error_at(name.offset,
                            "function '" + name.text + "' is not supported by relaytrust");
        }
        std::string message = "unknown function '" + name.text + "'";
        if (auto hint = function_hint(name.text); !hint.empty()) {
            message += " (did you mean " + std::string(hint) + "?)";
        }
        return error_at(name.offset, message);
    }

    [[gnu::cold]] [[gnu::noinline]] std::unique_ptr<Node> bad_arity(const Name& name,
                                                                    const FunctionInfo& info,
                                                                    std::size_t got) {
        return error_at(name.offset, "function '" + name.text + "' expects " +
                                         std::to_string(info.arity) + " argument" +
                                         (info.arity == 1 ? "" : "s") + ", got " +
                                         std::to_string(got));
    }

    std::unique_ptr<Node> parse_call(const Name& name) {
        const FunctionInfo* info = find_function(name.text);
        if (!info) return bad_function(name);
        std::size_t open = tok_.offset;
        auto n = make_node(NodeKind::Call, name.offset);
        n->function = info->id;
        advance();  // '('
        if (failed()) return nullptr;
        if (tok_.kind != Tok::RParen) {
            while (true) {
                auto arg = parse_expression();
                if (!arg) return nullptr;
                n->children.push_back(std::move(arg));
                if (tok_.kind == Tok::Comma) {
                    advance();
                    if (failed()) return nullptr;
                    continue;
                }
                if (tok_.kind == Tok::RParen) break;
                return unclosed("expected ',' or ')' after argument " +
                                    std::to_string(n->children.size()) + " of " + name.text + "()",
                                open);
            }
        }
        advance();  // ')'
        if (failed()) return nullptr;
        if (n->children.size() != info->arity) return bad_arity(name, *info, n->children.size());
        if (!bind_arguments(*n)) return nullptr;
        return fold(std::move(n));
    }

    // Compile-time work for functions whose arguments configure them.
    bool bind_arguments(Node& n) {
        auto constant_text = [](const Node& arg) -> std::optional<std::string> {
            if (arg.kind != NodeKind::Constant || arg.value.is_list()) return std::nullopt;
            return arg.value.to_string();
        };
        switch (n.function) {
            case Function::Matches: {
                const Node& arg = *n.children[0];
                auto pattern_text = arg.value.is_string() && arg.kind == NodeKind::Constant
                                        ? std::optional<std::string>(arg.value.to_string())
                                        : std::nullopt;
                if (!pattern_text) {
                    error_at(arg.offset,
                             "matches() takes the regular expression as a string literal first "
                             "argument: matches('^regex$', value)");
                    return false;
                }
                std::size_t pattern_offset = 0;
                std::string message;
                n.pattern = Pattern::compile(*pattern_text, pattern_offset, message);
                if (!n.pattern) {
                    // Points inside the literal (exact unless the literal holds escapes).
                    bool quoted = arg.offset < src_.size() &&
                                  (src_[arg.offset] == '\'' || src_[arg.offset] == '"');
                    error_at(arg.offset + (quoted ? 1 + pattern_offset : 0), message);
                    return false;
                }
                n.children.erase(n.children.begin());
                return true;
            }
            case Function::InNetwork: {
                const Node& arg = *n.children[1];
                auto set_name = constant_text(arg);
                if (!set_name || !arg.value.is_string()) {
                    error_at(arg.offset,
                             "in_network() takes the network set's name as a string "
                             "literal: in_network(remote_ip, 'name')");
                    return false;
                }
                n.network = symbols_.network ? symbols_.network(*set_name) : nullptr;
                if (!n.network) {
                    error_at(arg.offset, "unknown network set '" + *set_name + "'");
                    return false;
                }
                n.children.pop_back();
                return true;
            }
            case Function::IsIpInCidr: {
                const Node& arg = *n.children[1];
                auto cidr_text = constant_text(arg);
                if (!cidr_text) return true;  // computed at run time
                std::string why;
                n.cidr = ip::CidrMatcher::parse(*cidr_text, &why);
                if (!n.cidr) {
                    error_at(arg.offset, "invalid CIDR '" + *cidr_text + "': " + why);
                    return false;
                }
                n.children.pop_back();
                return true;
            }
            case Function::Hash: {
                auto algorithm = constant_text(*n.children[1]);
                if (algorithm && !digest::is_known_algorithm(*algorithm)) {
                    error_at(n.children[1]->offset, "unknown hash algorithm '" + *algorithm +
                                                        "' (use md5, sha1, sha256 or sha512)");
                    return false;
                }
                return true;
            }
            case Function::EmailPart: {
                auto part = constant_text(*n.children[1]);
                if (part && *part != "local" && *part != "domain") {
                    error_at(n.children[1]->offset,
                             "email_part() takes 'local' or 'domain', not '" + *part + "'");
                    return false;
                }
                return true;
            }
            default:
                return true;
        }
    }

    std::string_view src_;
    Lexer lexer_;
    const Symbols& symbols_;
    Token tok_;
    bool failed_ = false;
    CompileError error_;
    int depth_ = 0;
    bool uses_captures_ = false;
};

Value apply(BinaryOp op, const Value& a, const Value& b) {
    switch (op) {
        case BinaryOp::Add:
            return detail::add(a, b);
        case BinaryOp::Subtract:
            return detail::subtract(a, b);
        case BinaryOp::Multiply:
            return detail::multiply(a, b);
        case BinaryOp::Divide:
            return detail::divide(a, b);
        case BinaryOp::Xor:
            return Value(a.to_bool() != b.to_bool());
        case BinaryOp::Eq:
            return Value(detail::values_equal(a, b));
        case BinaryOp::Ne:
            return Value(!detail::values_equal(a, b));
        default:
            break;
    }
    auto c = detail::compare_values(a, b);
    if (!c) return Value(false);  // NaN is unordered
    switch (op) {
        case BinaryOp::Lt:
            return Value(*c < 0);
        case BinaryOp::Le:
            return Value(*c <= 0);
        case BinaryOp::Gt:
            return Value(*c > 0);
        default:
            return Value(*c >= 0);
    }
}

}  // namespace

// --- evaluation ------------------------------------------------------------------------------

Value evaluate_node(const Node& n, EvalState& state) {
    switch (n.kind) {
        case NodeKind::Constant:
            // Hand out a view of the literal instead of copying it.
            if (const auto* s = std::get_if<std::string>(&n.value.storage()))
                return Value::borrowed(*s);
            return n.value;
        case NodeKind::Variable:
            return state.context.variable(n.variable);
        case NodeKind::Capture:
            // Owned: the captures die with this evaluation, the result may not.
            if (n.capture < state.captures.size()) return Value::owned(state.captures[n.capture]);
            return Value::borrowed("");
        case NodeKind::List: {
            Value::List items;
            items.reserve(n.children.size());
            for (const auto& child : n.children)
                items.push_back(evaluate_node(*child, state));
            return Value::list(std::move(items));
        }
        case NodeKind::Index: {
            Value v = evaluate_node(*n.children[0], state);
            auto index = detail::to_index(evaluate_node(*n.children[1], state)).value_or(0);
            if (const auto* list = v.as_list()) {
                return index < list->size() ? (*list)[index] : Value::borrowed("");
            }
            // A scalar behaves as a one-item list.
            bool empty = detail::kind_of(v) == detail::Kind::String && v.as_string_view().empty();
            return index == 0 && !empty ? v : Value::borrowed("");
        }
        case NodeKind::Not:
            return Value(!evaluate_node(*n.children[0], state).to_bool());
        case NodeKind::Negate:
            return detail::negate(evaluate_node(*n.children[0], state));
        case NodeKind::Chain: {
            Value acc = evaluate_node(*n.children[0], state);
            for (std::size_t i = 0; i < n.ops.size(); ++i) {
                Value rhs = evaluate_node(*n.children[i + 1], state);
                acc = apply(n.ops[i], acc, rhs);
            }
            return acc;
        }
        case NodeKind::And:
            for (const auto& child : n.children) {
                if (!evaluate_node(*child, state).to_bool()) return Value(false);
            }
            return Value(true);
        case NodeKind::Or:
            for (const auto& child : n.children) {
                if (evaluate_node(*child, state).to_bool()) return Value(true);
            }
            return Value(false);
        case NodeKind::Call:
            return call_function(n, state);
    }
    return Value();
}

namespace {

void collect_literals(const Node& n, std::vector<std::string_view>& out) {
    if (const auto* s = std::get_if<std::string>(&n.value.storage())) out.emplace_back(*s);
    for (const auto& child : n.children)
        collect_literals(*child, out);
}

void index_literals(const Node& root, std::vector<std::string_view>& out) {
    collect_literals(root, out);
    std::sort(out.begin(), out.end(), [](std::string_view a, std::string_view b) {
        return std::less<const char*>()(a.data(), b.data());
    });
}

}  // namespace

// --- Expression ------------------------------------------------------------------------------

Expression::Expression() = default;
Expression::~Expression() = default;
Expression::Expression(Expression&&) noexcept = default;
Expression& Expression::operator=(Expression&&) noexcept = default;

std::optional<Expression> Expression::compile(std::string_view source, const Symbols& symbols,
                                              CompileError& error) {
    Parser parser(source, symbols);
    auto root = parser.parse();
    if (!root) {
        error = parser.error();
        return std::nullopt;
    }
    Expression e;
    e.root_ = std::move(root);
    e.source_ = std::string(source);
    e.uses_captures_ = parser.uses_captures();
    index_literals(*e.root_, e.literals_);
    return e;
}

Expression Expression::constant(Value value) {
    Expression e;
    e.source_ = value.to_string();
    e.root_ = make_constant(detail::deep_owned(value), 0);
    index_literals(*e.root_, e.literals_);
    return e;
}

Value Expression::detach(Value value) const {
    if (literals_.empty()) return value;
    if (const auto* view = std::get_if<std::string_view>(&value.storage())) {
        if (view->empty()) return value;
        std::less<const char*> before;
        // The last literal starting at or before the view's first byte.
        auto it = std::upper_bound(
            literals_.begin(), literals_.end(), view->data(),
            [&](const char* p, std::string_view lit) { return before(p, lit.data()); });
        if (it == literals_.begin()) return value;
        --it;
        bool inside = !before(it->data() + it->size(), view->data() + view->size());
        return inside ? Value::owned(std::string(*view)) : value;
    }
    if (const auto* list = value.as_list()) {
        Value::List items;
        bool changed = false;
        items.reserve(list->size());
        for (const auto& item : *list) {
            items.push_back(detach(item));
            changed = changed || items.back().storage().index() != item.storage().index();
        }
        return changed ? Value::list(std::move(items)) : value;
    }
    return value;
}

Value Expression::evaluate(const Context& context) const {
    if (!root_) return Value();
    EvalState state{context, uses_captures_, {}};
    return detach(evaluate_node(*root_, state));
}

}  // namespace relaytrust::expr
