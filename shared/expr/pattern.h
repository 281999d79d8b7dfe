// Regular expressions for matches(): Stalwart uses Rust's regex crate, relaytrust uses
// std::regex (ECMAScript) in libstdc++'s polynomial (Thompson/BFS) mode, which has no
// catastrophic backtracking and no input-length recursion. Patterns are checked before
// compiling so that Rust-only syntax fails loudly instead of silently matching something else,
// and so that hostile patterns cannot exhaust the stack. Private to shared/expr.
#pragma once

#include <memory>
#include <optional>
#include <regex>
#include <string>
#include <string_view>
#include <vector>

namespace relaytrust::expr {

class Pattern {
  public:
    static constexpr std::size_t kMaxLength = 4096;
    static constexpr int kMaxGroupDepth = 64;
    static constexpr unsigned kMaxRepeat = 1000;

    // On failure returns nullopt and sets error_offset (within the pattern) and error.
    static std::optional<Pattern> compile(std::string_view source, std::size_t& error_offset,
                                          std::string& error);

    // Unanchored search, like Rust's Regex::captures. When `captures` is non-null it receives
    // $0..$n (empty strings for groups that did not take part) on a match and is cleared
    // otherwise.
    bool search(std::string_view haystack, std::vector<std::string>* captures) const;

  private:
    std::shared_ptr<const std::regex> regex_;
};

}  // namespace relaytrust::expr
