#include "net/network_set.h"

#include <algorithm>
#include <bit>
#include <cstdio>
#include <stdexcept>
#include <utility>

namespace relaytrust::net {

namespace {

// ---------------------------------------------------------------------------------------------
// Error text. Address parsers take a nullable std::string* and build no message unless asked,
// so NetworkSet::contains("garbage") stays allocation-free.

// Quotes one character for a message; control and non-ASCII bytes come out as \xNN.
std::string describe_char(char c) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte >= 0x21 && byte < 0x7f) return std::string("'") + c + "'";
    if (byte == ' ') return "a space";
    char buffer[8];
    std::snprintf(buffer, sizeof buffer, "\\x%02x", byte);
    return buffer;
}

// Quotes user text for a message, escaping bytes that would garble a log line.
std::string quote(std::string_view text) {
    std::string out = "'";
    for (const char c : text) {
        const auto byte = static_cast<unsigned char>(c);
        if (byte >= 0x20 && byte < 0x7f) {
            out += c;
        } else {
            char buffer[8];
            std::snprintf(buffer, sizeof buffer, "\\x%02x", byte);
            out += buffer;
        }
    }
    out += "'";
    return out;
}

// Takes the message as given (a literal stays a const char*), so nothing is built when the
// caller does not want it.
template <typename T, typename Message>
std::optional<T> fail(std::string* error, Message&& message) {
    if (error) *error = std::forward<Message>(message);
    return std::nullopt;
}

bool is_digit(char c) {
    return c >= '0' && c <= '9';
}

int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

bool iequals_prefix(std::string_view text, std::string_view prefix) {
    if (text.size() < prefix.size()) return false;
    for (std::size_t i = 0; i < prefix.size(); ++i) {
        const char a = text[i] >= 'A' && text[i] <= 'Z' ? char(text[i] - 'A' + 'a') : text[i];
        if (a != prefix[i]) return false;
    }
    return true;
}

// ---------------------------------------------------------------------------------------------
// Address parsing. `reason` gets a bare explanation; the public wrappers add context.

// Strict dotted quad into out[0..3]. Leading zeros are rejected because inet_aton() and many
// MTAs read "010" as octal 8: accepting it would make our idea of the address differ from
// theirs.
bool parse_dotted_quad(std::string_view text, std::uint8_t* out, std::string* reason) {
    std::size_t part_index = 0;
    std::size_t pos = 0;
    for (;;) {
        const std::size_t dot = text.find('.', pos);
        const std::string_view part =
            text.substr(pos, dot == std::string_view::npos ? std::string_view::npos : dot - pos);
        if (part_index == 4) {
            if (reason) *reason = "IPv4 address has more than 4 dot-separated parts";
            return false;
        }
        if (part.empty()) {
            if (reason) *reason = "empty IPv4 part (IPv4 needs 4 parts, like 192.0.2.1)";
            return false;
        }
        unsigned value = 0;
        for (const char c : part) {
            if (!is_digit(c)) {
                if (reason) *reason = "IPv4 part " + quote(part) + " is not a decimal number";
                return false;
            }
            // Bounded to avoid overflow on long digit runs; anything over 255 is an error anyway.
            if (value <= 255) value = value * 10 + unsigned(c - '0');
        }
        if (value > 255) {
            if (reason) *reason = "IPv4 part " + quote(part) + " is greater than 255";
            return false;
        }
        if (part.size() > 1 && part[0] == '0') {
            if (reason) {
                *reason = "IPv4 part " + quote(part) +
                          " has a leading zero (ambiguous: some software reads it as octal)";
            }
            return false;
        }
        out[part_index++] = static_cast<std::uint8_t>(value);
        if (dot == std::string_view::npos) break;
        pos = dot + 1;
    }
    if (part_index != 4) {
        if (reason) *reason = "IPv4 address needs 4 dot-separated parts, like 192.0.2.1";
        return false;
    }
    return true;
}

// RFC 4291 text form: up to 8 groups of 1-4 hex digits, at most one "::" standing for one or
// more zero groups, optionally ending in a dotted quad that fills the last two groups.
bool parse_ipv6(std::string_view text, std::array<std::uint8_t, 16>& bytes, std::string* reason) {
    std::uint16_t head[8] = {};
    std::uint16_t tail[8] = {};
    std::size_t head_count = 0;
    std::size_t tail_count = 0;
    bool seen_double_colon = false;
    std::size_t pos = 0;

    auto push_group = [&](std::uint16_t group) {
        if (head_count + tail_count == 8) return false;
        if (seen_double_colon) {
            tail[tail_count++] = group;
        } else {
            head[head_count++] = group;
        }
        return true;
    };
    auto too_many = [&] {
        if (reason) *reason = "too many IPv6 groups (at most 8)";
        return false;
    };

    if (text.starts_with("::")) {
        seen_double_colon = true;
        pos = 2;
    } else if (text.starts_with(":")) {
        if (reason) *reason = "IPv6 address starts with a single ':'";
        return false;
    }
    while (pos < text.size()) {
        std::size_t end = text.find(':', pos);
        if (end == std::string_view::npos) end = text.size();
        const std::string_view token = text.substr(pos, end - pos);
        if (token.empty()) {
            if (reason) *reason = "more than one '::' or an empty IPv6 group";
            return false;
        }
        if (token.find('.') != std::string_view::npos) {
            if (end != text.size()) {
                if (reason) *reason = "an embedded IPv4 address must come last";
                return false;
            }
            std::uint8_t quad[4];
            if (!parse_dotted_quad(token, quad, reason)) return false;
            if (!push_group(std::uint16_t(quad[0] << 8 | quad[1]))) return too_many();
            if (!push_group(std::uint16_t(quad[2] << 8 | quad[3]))) return too_many();
        } else {
            unsigned value = 0;
            for (const char c : token) {
                const int digit = hex_value(c);
                if (digit < 0) {
                    if (reason) *reason = "unexpected character " + describe_char(c);
                    return false;
                }
                value = value << 4 | unsigned(digit);
            }
            if (token.size() > 4) {
                if (reason) {
                    *reason = "IPv6 group " + quote(token) + " has more than 4 hex digits";
                }
                return false;
            }
            if (!push_group(std::uint16_t(value))) return too_many();
        }
        if (end == text.size()) break;
        // At a ':'. A second one makes "::"; a lone one must be followed by another group.
        if (end + 1 < text.size() && text[end + 1] == ':') {
            if (seen_double_colon) {
                if (reason) *reason = "more than one '::'";
                return false;
            }
            seen_double_colon = true;
            pos = end + 2;
        } else if (end + 1 == text.size()) {
            if (reason) *reason = "IPv6 address ends with a single ':'";
            return false;
        } else {
            pos = end + 1;
        }
    }

    const std::size_t total = head_count + tail_count;
    if (seen_double_colon && total == 8) {
        if (reason) *reason = "'::' must stand for at least one zero group, but 8 groups are given";
        return false;
    }
    if (!seen_double_colon && total != 8) {
        if (reason) *reason = "too few IPv6 groups (8 are needed when there is no '::')";
        return false;
    }
    std::uint16_t groups[8] = {};
    std::copy_n(head, head_count, groups);
    std::copy_n(tail, tail_count, groups + 8 - tail_count);
    for (std::size_t i = 0; i < 8; ++i) {
        bytes[2 * i] = std::uint8_t(groups[i] >> 8);
        bytes[2 * i + 1] = std::uint8_t(groups[i] & 0xff);
    }
    return true;
}

bool is_v4_mapped(const std::array<std::uint8_t, 16>& bytes) {
    return std::all_of(bytes.begin(), bytes.begin() + 10, [](std::uint8_t b) { return b == 0; }) &&
           bytes[10] == 0xff && bytes[11] == 0xff;
}

// Parses an address; `written_as_v4` tells the CIDR parser which prefix-length range applies.
std::optional<IpAddress> parse_address(std::string_view text, bool& written_as_v4,
                                       std::string* reason) {
    written_as_v4 = false;
    if (text.empty()) return fail<IpAddress>(reason, "empty address");
    const bool open_bracket = text.front() == '[';
    const bool close_bracket = text.back() == ']';
    if (open_bracket != close_bracket || (open_bracket && text.size() == 1)) {
        return fail<IpAddress>(
            reason, open_bracket ? "'[' without a closing ']'" : "']' without an opening '['");
    }
    if (open_bracket) text = text.substr(1, text.size() - 2);
    // RFC 5321 address literal, e.g. "[IPv6:2001:db8::1]" in Received headers.
    const bool ipv6_tag = iequals_prefix(text, "ipv6:");
    if (ipv6_tag) text.remove_prefix(5);
    if (text.empty()) return fail<IpAddress>(reason, "empty address");
    if (text.find('%') != std::string_view::npos) {
        return fail<IpAddress>(reason, "zone ids ('%...') are not supported");
    }

    IpAddress address;
    if (text.find(':') != std::string_view::npos) {
        if (!parse_ipv6(text, address.bytes, reason)) return std::nullopt;
    } else {
        if (ipv6_tag) {
            return fail<IpAddress>(reason, "'IPv6:' must be followed by an IPv6 address");
        }
        if (!parse_dotted_quad(text, address.bytes.data() + 12, reason)) return std::nullopt;
        address.bytes[10] = 0xff;
        address.bytes[11] = 0xff;
        written_as_v4 = true;
    }
    address.is_v4 = is_v4_mapped(address.bytes);
    return address;
}

// ---------------------------------------------------------------------------------------------
// 128-bit helpers. The trie works on two big-endian 64-bit words: bit 0 is the top bit of hi.

struct Bits128 {
    std::uint64_t hi = 0;
    std::uint64_t lo = 0;
};

Bits128 to_bits(const std::array<std::uint8_t, 16>& bytes) {
    Bits128 bits;
    for (int i = 0; i < 8; ++i)
        bits.hi = bits.hi << 8 | bytes[i];
    for (int i = 8; i < 16; ++i)
        bits.lo = bits.lo << 8 | bytes[i];
    return bits;
}

std::array<std::uint8_t, 16> to_bytes(Bits128 bits) {
    std::array<std::uint8_t, 16> bytes{};
    for (int i = 7; i >= 0; --i, bits.hi >>= 8)
        bytes[i] = std::uint8_t(bits.hi);
    for (int i = 15; i >= 8; --i, bits.lo >>= 8)
        bytes[i] = std::uint8_t(bits.lo);
    return bytes;
}

// Number of leading bits a and b share (128 when equal).
unsigned common_prefix_len(Bits128 a, Bits128 b) {
    const std::uint64_t hi_diff = a.hi ^ b.hi;
    if (hi_diff != 0) return unsigned(std::countl_zero(hi_diff));
    return 64 + unsigned(std::countl_zero(a.lo ^ b.lo));  // countl_zero(0) == 64
}

unsigned bit_at(Bits128 bits, unsigned index) {  // index < 128
    return index < 64 ? unsigned(bits.hi >> (63 - index)) & 1u
                      : unsigned(bits.lo >> (127 - index)) & 1u;
}

Bits128 masked(Bits128 bits, unsigned prefix_len) {
    if (prefix_len == 0) return {};
    if (prefix_len <= 64) return {bits.hi & (~std::uint64_t{0} << (64 - prefix_len)), 0};
    if (prefix_len >= 128) return bits;
    return {bits.hi, bits.lo & (~std::uint64_t{0} << (128 - prefix_len))};
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// IpAddress

std::optional<IpAddress> IpAddress::parse(std::string_view text) {
    bool written_as_v4 = false;
    return parse_address(text, written_as_v4, nullptr);
}

std::optional<IpAddress> IpAddress::parse(std::string_view text, std::string* error) {
    bool written_as_v4 = false;
    std::string reason;
    auto address = parse_address(text, written_as_v4, error ? &reason : nullptr);
    if (!address && error) *error = quote(text) + " is not an IP address: " + reason;
    return address;
}

namespace {

void append_decimal(std::string& out, unsigned value) {  // value < 1000
    if (value >= 100) out += char('0' + value / 100);
    if (value >= 10) out += char('0' + value / 10 % 10);
    out += char('0' + value % 10);
}

void append_hex_group(std::string& out, unsigned group) {  // lowercase, no leading zeros
    static constexpr char kDigits[] = "0123456789abcdef";
    bool started = false;
    for (int shift = 12; shift >= 0; shift -= 4) {
        const unsigned digit = (group >> shift) & 0xf;
        started = started || digit != 0 || shift == 0;
        if (started) out += kDigits[digit];
    }
}

}  // namespace

std::string IpAddress::to_string() const {
    std::string out;
    out.reserve(39);  // longest form; keeps this to one allocation
    if (is_v4_mapped(bytes)) {
        for (int i = 12; i < 16; ++i) {
            if (i > 12) out += '.';
            append_decimal(out, bytes[i]);
        }
        return out;
    }
    unsigned groups[8];
    for (int i = 0; i < 8; ++i)
        groups[i] = unsigned(bytes[2 * i]) << 8 | bytes[2 * i + 1];
    // RFC 5952 section 4.2: compress the longest run of two or more zero groups, the first one
    // on a tie; a single zero group stays "0".
    int best_start = -1;
    int best_len = 1;
    for (int i = 0; i < 8;) {
        if (groups[i] != 0) {
            ++i;
            continue;
        }
        int run_end = i;
        while (run_end < 8 && groups[run_end] == 0)
            ++run_end;
        if (run_end - i > best_len) {
            best_start = i;
            best_len = run_end - i;
        }
        i = run_end;
    }
    for (int i = 0; i < 8; ++i) {
        if (i == best_start) {
            out += "::";
            i += best_len - 1;
            continue;
        }
        if (!out.empty() && out.back() != ':') out += ':';
        append_hex_group(out, groups[i]);
    }
    return out;
}

// ---------------------------------------------------------------------------------------------
// Cidr

std::optional<Cidr> Cidr::parse(std::string_view text, std::string* error) {
    auto invalid = [&](std::string_view reason) {
        return fail<Cidr>(error, "invalid network " + quote(text) + ": " + std::string(reason));
    };
    if (text.empty()) return invalid("empty");
    std::string_view address_text = text;
    std::string_view length_text;
    bool has_length = false;
    if (const std::size_t slash = text.find('/'); slash != std::string_view::npos) {
        address_text = text.substr(0, slash);
        length_text = text.substr(slash + 1);
        has_length = true;
    }
    // SpamAssassin also accepts the whole thing in brackets: "[2001:db8::/32]".
    if (has_length && address_text.starts_with('[') && !address_text.ends_with(']') &&
        length_text.ends_with(']')) {
        address_text.remove_prefix(1);
        length_text.remove_suffix(1);
    }

    bool written_as_v4 = false;
    std::string reason;
    auto address = parse_address(address_text, written_as_v4, error ? &reason : nullptr);
    if (!address) return invalid(reason);

    const unsigned max_len = written_as_v4 ? 32 : 128;
    unsigned length = max_len;
    if (has_length) {
        if (length_text.empty()) return invalid("missing prefix length after '/'");
        if (length_text.size() > 3 ||
            !std::all_of(length_text.begin(), length_text.end(), is_digit)) {
            return invalid("prefix length " + quote(length_text) + " is not a decimal number");
        }
        length = 0;
        for (const char c : length_text)
            length = length * 10 + unsigned(c - '0');
        if (length > max_len) {
            return invalid("prefix length " + std::to_string(length) + " is out of range for " +
                           (written_as_v4 ? "IPv4 (0-32)" : "IPv6 (0-128)"));
        }
    }

    Cidr cidr;
    cidr.prefix_len = written_as_v4 ? 96 + length : length;
    const Bits128 bits = to_bits(address->bytes);
    const Bits128 network = masked(bits, cidr.prefix_len);
    cidr.address.bytes = to_bytes(network);
    cidr.address.is_v4 = is_v4_mapped(cidr.address.bytes);
    if (network.hi != bits.hi || network.lo != bits.lo) {
        // Refuse rather than mask: "10.0.0.1/8" is more likely a typo for /32 or 10.0.0.0/24
        // than a deliberate /8, and silently trusting a /8 would be a security hole.
        return fail<Cidr>(error, "host bits set in " + std::string(text) + " (did you mean " +
                                     cidr.to_string() + "?)");
    }
    return cidr;
}

bool Cidr::contains(const IpAddress& ip) const {
    return common_prefix_len(to_bits(ip.bytes), to_bits(address.bytes)) >=
           std::min(prefix_len, 128u);
}

std::string Cidr::to_string() const {
    if (prefix_len >= 96 && is_v4_mapped(address.bytes)) {
        return address.to_string() + "/" + std::to_string(prefix_len - 96);
    }
    return address.to_string() + "/" + std::to_string(prefix_len);
}

// ---------------------------------------------------------------------------------------------
// NetworkSet: a path-compressed binary trie (PATRICIA style) in one vector, plus jump tables.
//
// Every node is a prefix; a node's children extend it. Nodes exist for each added prefix and
// for branch points between them ("glue" nodes without a verdict). Lookup walks from the root
// following the address bits, stops at the first node whose prefix does not match, and
// remembers the deepest verdict seen: that is the longest matching prefix. Nodes are 32 bytes
// and addressed by index, so lookup touches one small contiguous array and never allocates.
//
// A walk from the root costs one dependent memory load per level (~15 levels for 10k random
// prefixes). Larger sets therefore also keep two jump tables, indexed by the first k bits of
// the IPv6 address or, for IPv4(-mapped) addresses, of the IPv4 address. A slot holds where the
// walk would be after those k bits and the verdict seen so far, so a lookup starts 1-3 levels
// above the answer. The tables are exact (not a cache): add() updates the slots a short prefix
// covers and rebuilds them when the set has doubled (k grows with the set size).

namespace {

enum Verdict : std::uint8_t { kNoVerdict = 0, kInclude = 1, kExclude = 2 };

struct alignas(32) TrieNode {         // aligned so a node never straddles two cache lines
    Bits128 key;                      // the prefix, host bits zero
    std::uint32_t child[2] = {0, 0};  // 0 = none (the root, index 0, is never a child)
    std::uint8_t prefix_len = 0;      // 0-128
    std::uint8_t verdict = kNoVerdict;
};
static_assert(sizeof(TrieNode) == 32);

// The IPv4-mapped block ::ffff:0:0/96 that holds every IPv4 address.
constexpr Bits128 kMappedBlock{0, 0xffff'0000'0000};
constexpr unsigned kMappedBlockLen = 96;

bool is_mapped(Bits128 address) {
    return address.hi == 0 && (address.lo >> 32) == 0xffff;
}

}  // namespace

struct NetworkSet::Trie {
    std::vector<TrieNode> nodes{TrieNode{}};  // nodes[0]: the root, prefix ::/0
    std::size_t prefix_count = 0;

    // Jump table slot: the start node's index in the low 30 bits, the verdict so far above.
    static constexpr std::uint32_t kIndexMask = (std::uint32_t{1} << 30) - 1;
    static constexpr unsigned kMinTableBits = 8;  // below 128 prefixes the walk is short anyway
    static constexpr unsigned kMaxTableBits = 16;
    unsigned table_bits = 0;               // 0: no tables
    std::vector<std::uint32_t> v6_starts;  // by the first table_bits bits of the address
    std::vector<std::uint32_t> v4_starts;  // by the first table_bits bits of the IPv4 address

    std::uint32_t new_node(Bits128 key, unsigned prefix_len, Verdict verdict) {
        if (nodes.size() > kIndexMask) throw std::length_error("NetworkSet: too many networks");
        TrieNode node;
        node.key = key;
        node.prefix_len = std::uint8_t(prefix_len);
        node.verdict = verdict;
        if (verdict != kNoVerdict) ++prefix_count;
        nodes.push_back(node);
        return std::uint32_t(nodes.size() - 1);
    }

    // Exclusion beats inclusion on an exact tie, so the verdict only ever rises.
    void set_verdict(std::uint32_t index, Verdict verdict) {
        std::uint8_t& current = nodes[index].verdict;
        if (current == kNoVerdict) ++prefix_count;
        current = std::max<std::uint8_t>(current, verdict);
    }

    void insert(Bits128 key, unsigned prefix_len, Verdict verdict) {
        key = masked(key, prefix_len);
        insert_node(key, prefix_len, verdict);
        update_tables(key, prefix_len);
    }

    void insert_node(Bits128 key, unsigned prefix_len, Verdict verdict) {
        // Indices, not references: new_node() may reallocate the vector.
        std::uint32_t current = 0;
        for (;;) {
            const unsigned current_len = nodes[current].prefix_len;
            if (current_len == prefix_len) {
                set_verdict(current, verdict);
                return;
            }
            const unsigned side = bit_at(key, current_len);
            const std::uint32_t child_index = nodes[current].child[side];
            if (child_index == 0) {
                const std::uint32_t leaf = new_node(key, prefix_len, verdict);
                nodes[current].child[side] = leaf;
                return;
            }
            const TrieNode child = nodes[child_index];
            const unsigned common = std::min(
                {common_prefix_len(key, child.key), prefix_len, unsigned(child.prefix_len)});
            if (common == child.prefix_len) {  // child is a prefix of key: descend
                current = child_index;
                continue;
            }
            if (common == prefix_len) {  // key is a prefix of child: slot it in between
                const std::uint32_t inserted = new_node(key, prefix_len, verdict);
                nodes[inserted].child[bit_at(child.key, prefix_len)] = child_index;
                nodes[current].child[side] = inserted;
                return;
            }
            // They diverge below both: add a glue node at the branch point.
            const std::uint32_t glue = new_node(masked(key, common), common, kNoVerdict);
            const std::uint32_t leaf = new_node(key, prefix_len, verdict);
            nodes[glue].child[bit_at(child.key, common)] = child_index;
            nodes[glue].child[bit_at(key, common)] = leaf;
            nodes[current].child[side] = glue;
            return;
        }
    }

    // Walks from the root as far as nodes no longer than `boundary` bits match `address`: the
    // result is valid for every address sharing its first `boundary` bits. Nodes added later
    // that are longer than `boundary` cannot invalidate it: they land below the start node, or
    // above it only as verdict-less glue.
    std::uint32_t start_slot(Bits128 address, unsigned boundary) const {
        std::uint32_t current = 0;
        std::uint8_t best = nodes[0].verdict;
        while (nodes[current].prefix_len < boundary) {
            const std::uint32_t next =
                nodes[current].child[bit_at(address, nodes[current].prefix_len)];
            if (next == 0) break;
            const TrieNode& child = nodes[next];
            if (child.prefix_len > boundary) break;
            if (common_prefix_len(address, child.key) < child.prefix_len) break;
            current = next;
            if (child.verdict != kNoVerdict) best = child.verdict;
        }
        return current | std::uint32_t{best} << 30;
    }

    void fill_v6_slots(std::uint32_t first, std::uint32_t count) {
        for (std::uint32_t slot = first; slot < first + count; ++slot) {
            v6_starts[slot] = start_slot({std::uint64_t{slot} << (64 - table_bits), 0}, table_bits);
        }
    }

    void fill_v4_slots(std::uint32_t first, std::uint32_t count) {
        for (std::uint32_t slot = first; slot < first + count; ++slot) {
            const Bits128 address{0, kMappedBlock.lo | std::uint64_t{slot} << (32 - table_bits)};
            v4_starts[slot] = start_slot(address, kMappedBlockLen + table_bits);
        }
    }

    static unsigned wanted_table_bits(std::size_t prefix_count) {
        const auto bits = unsigned(std::bit_width(prefix_count));
        return bits < kMinTableBits ? 0 : std::min(bits, kMaxTableBits);
    }

    // Keeps the jump tables exact after inserting prefix (key, prefix_len).
    void update_tables(Bits128 key, unsigned prefix_len) {
        if (const unsigned wanted = wanted_table_bits(prefix_count); wanted > table_bits) {
            table_bits = wanted;
            v6_starts.assign(std::size_t{1} << table_bits, 0);
            v4_starts.assign(std::size_t{1} << table_bits, 0);
            fill_v6_slots(0, std::uint32_t{1} << table_bits);
            fill_v4_slots(0, std::uint32_t{1} << table_bits);
            return;
        }
        if (table_bits == 0) return;
        // Only a prefix no longer than a slot's bits changes slots: those it covers.
        if (prefix_len <= table_bits) {
            fill_v6_slots(std::uint32_t(key.hi >> (64 - table_bits)),
                          std::uint32_t{1} << (table_bits - prefix_len));
        }
        if (prefix_len <= kMappedBlockLen) {
            if (common_prefix_len(key, kMappedBlock) >= prefix_len) {
                fill_v4_slots(0, std::uint32_t{1} << table_bits);  // covers all of IPv4
            }
        } else if (prefix_len <= kMappedBlockLen + table_bits && is_mapped(key)) {
            fill_v4_slots(std::uint32_t(key.lo & 0xffff'ffff) >> (32 - table_bits),
                          std::uint32_t{1} << (kMappedBlockLen + table_bits - prefix_len));
        }
    }

    bool contains(Bits128 address) const {
        const TrieNode* const base = nodes.data();
        const TrieNode* node = base;
        std::uint8_t best = node->verdict;
        if (table_bits != 0) {
            const std::uint32_t slot =
                is_mapped(address)
                    ? v4_starts[std::uint32_t(address.lo & 0xffff'ffff) >> (32 - table_bits)]
                    : v6_starts[address.hi >> (64 - table_bits)];
            node = base + (slot & kIndexMask);
            best = std::uint8_t(slot >> 30);
        }
        while (node->prefix_len < 128) {
            const std::uint32_t next = node->child[bit_at(address, node->prefix_len)];
            if (next == 0) break;
            node = base + next;
            // Path compression skips bits, so check the whole prefix; deeper nodes extend this
            // one, so a mismatch here means nothing below can match either.
            if (common_prefix_len(address, node->key) < node->prefix_len) break;
            if (node->verdict != kNoVerdict) best = node->verdict;
        }
        return best == kInclude;
    }
};

NetworkSet::NetworkSet() : trie_(std::make_unique<Trie>()) {}
NetworkSet::~NetworkSet() = default;
NetworkSet::NetworkSet(NetworkSet&&) noexcept = default;
NetworkSet& NetworkSet::operator=(NetworkSet&&) noexcept = default;

std::string NetworkSet::add(std::string_view entry) {
    auto trim = [](std::string_view text) {
        const auto is_space = [](char c) {
            return c == ' ' || c == '\t' || c == '\r' || c == '\n';
        };
        while (!text.empty() && is_space(text.front()))
            text.remove_prefix(1);
        while (!text.empty() && is_space(text.back()))
            text.remove_suffix(1);
        return text;
    };
    entry = trim(entry);
    Verdict verdict = kInclude;
    if (entry.starts_with('!')) {
        verdict = kExclude;
        entry = trim(entry.substr(1));
    }
    if (entry.empty()) return "empty network entry";
    std::string error;
    const auto cidr = Cidr::parse(entry, &error);
    if (!cidr) return error;
    if (!trie_) trie_ = std::make_unique<Trie>();  // a moved-from set is reusable
    trie_->insert(to_bits(cidr->address.bytes), cidr->prefix_len, verdict);
    return {};
}

bool NetworkSet::contains(const IpAddress& ip) const {
    return trie_ && trie_->contains(to_bits(ip.bytes));
}

bool NetworkSet::contains(std::string_view ip_text) const {
    const auto ip = IpAddress::parse(ip_text);
    return ip && contains(*ip);
}

std::size_t NetworkSet::size() const {
    return trie_ ? trie_->prefix_count : 0;
}

}  // namespace relaytrust::net
