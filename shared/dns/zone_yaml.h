// A reader for the YAML subset that test zone data and conformance suites are written in
// (the OpenSPF suites rfc7208-tests.yml / rfc4408-tests.yml, the DKIM and DMARC case files): a
// stream of `---`-separated documents made of block mappings and sequences, flow sequences and
// mappings (`[a, "b"]`, `{k: v}`, also spread over lines), plain / 'single' / "double"-quoted
// scalars (\xHH, \uHHHH, \0 escapes; multi-line folding) and |, |-, >, >- block scalars.
// Anchors, aliases, tags and complex keys are reported as errors, never silently misread.
// Every scalar stays text ("0", "false", "NONE"): the caller knows what a field means.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace relaytrust::dns::yaml {

struct Field;

struct Node {
    enum class Kind { Null, Scalar, Sequence, Mapping };
    Kind kind = Kind::Null;
    std::string scalar;         // Kind::Scalar
    bool quoted = false;        // the scalar was written in quotes
    std::vector<Node> items;    // Kind::Sequence
    std::vector<Field> fields;  // Kind::Mapping, in file order
    int line = 0;               // 1-based line the node starts on

    bool is_null() const { return kind == Kind::Null; }
    bool is_scalar() const { return kind == Kind::Scalar; }
    bool is_sequence() const { return kind == Kind::Sequence; }
    bool is_mapping() const { return kind == Kind::Mapping; }
    // The value of `key` in a mapping, or nullptr (also for non-mappings).
    const Node* find(std::string_view key) const;
};

// One mapping entry. A struct rather than std::pair: a vector of it may be declared while Node
// is still incomplete (std::pair<std::string, Node> may not, with libstdc++ under clang).
struct Field {
    std::string key;
    Node value;
};

struct Stream {
    std::vector<Node> documents;
    std::string error;  // "" or "line N: what is wrong"
    bool ok() const { return error.empty(); }
};

Stream parse_stream(std::string_view text);

}  // namespace relaytrust::dns::yaml
