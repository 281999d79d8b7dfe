// A strict JSON reader for hook requests (RFC 8259: no comments, no trailing commas, no
// duplicate keys, nothing after the value, bounded nesting).
//
// Why not jsoncpp (which the policy loader uses): a data-stage request is mostly one long
// string, the message body, and jsoncpp decodes strings a character at a time into a tree of
// heap nodes; profiling showed it at three quarters of hookd's CPU. This reader validates the
// whole text in one pass and records a flat array of nodes (one allocation) whose strings are
// views of the text, still JSON-escaped. A string is decoded only when asked for, straight into
// the caller's std::string: the request decoder copies each value once, and a value nobody
// reads is never copied.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace relaytrust::hookd::json {

enum class Type : std::uint8_t { Null, Bool, Integer, Number, String, Array, Object };

// One value. Children of an array or object follow their parent in the document's node array;
// `end` skips a whole subtree, so the next sibling of node n is node n.end.
struct Node {
    Type type = Type::Null;
    bool boolean = false;
    // Integer: a JSON number without fraction or exponent that fits in 64 bits.
    bool negative = false;
    bool escaped = false;     // String: `text` holds at least one escape
    std::uint32_t count = 0;  // Array/Object: number of children
    std::uint32_t end = 0;    // index one past this node's subtree
    std::uint64_t magnitude = 0;
    std::string_view text;         // String: the characters between the quotes, as written
    std::size_t decoded_size = 0;  // String: the length of its decoded value
    std::string_view key;          // a member of an object: its name, decoded

    bool is_null() const { return type == Type::Null; }
    bool is_string() const { return type == Type::String; }
    bool is_array() const { return type == Type::Array; }
    bool is_object() const { return type == Type::Object; }
    bool is_unsigned() const { return type == Type::Integer && !negative; }
};

// Decodes the contents of a JSON string that a Document validated (Node::text of a String).
// Anything else is undefined: the escapes are not checked again.
void decode_validated(std::string_view text, std::string& out);

class Document {
  public:
    // Parses text, which must outlive the document (nodes point into it). On failure returns
    // false and sets error to one line: "offset N: what was expected".
    bool parse(std::string_view text, std::string& error, int max_depth = 64);

    const Node& root() const { return nodes_.front(); }

    // The member called key, or nullptr (also when object is not an object).
    const Node* find(const Node& object, std::string_view key) const;
    // The children of an array or object, in document order.
    const Node* first_child(const Node& parent) const {
        return parent.count == 0 ? nullptr : &parent + 1;
    }
    const Node* next_sibling(const Node& child) const { return nodes_.data() + child.end; }

    // A string node's value, decoded (escapes resolved, \u as UTF-8).
    std::string string(const Node& node) const;
    void decode_into(const Node& node, std::string& out) const;
    std::size_t size() const { return nodes_.size(); }
    // Frees the node array (and the name buffer) when it grew past max_nodes, so that a
    // document reused for many parses keeps only a usual request's worth of memory.
    void release_if_over(std::size_t max_nodes);

  private:
    friend class Reader;
    std::vector<Node> nodes_;
    // Decoded member names that had escapes. Reserved to the text's size before the first
    // one is written, so views into it stay valid (a decoded name is never longer than its
    // encoded form).
    std::string names_;
};

}  // namespace relaytrust::hookd::json
