// Reads an RFC 5322 message file the way an MTA hands it to a filter: the header block as
// (name, raw value) pairs, then the body streamed in chunks, never held whole.
#pragma once

#include <cstdint>
#include <fstream>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "session.h"
#include "verdict.h"

namespace relaytrust::cli {

class MessageFile {
  public:
    // Opens and reads the header block. On failure error() says why.
    explicit MessageFile(const std::string& path);

    bool ok() const { return error_.empty(); }
    const std::string& error() const { return error_; }
    const std::vector<Header>& headers() const { return headers_; }
    // "\r\n" when the file uses CRLF line ends, else "\n".
    const std::string& line_end() const { return line_end_; }

    // Streams the body (everything after the blank line) in chunks of at most `chunk_size`.
    // Can be called more than once.
    bool stream_body(const std::function<void(std::string_view)>& sink,
                     std::size_t chunk_size = 64 * 1024);

  private:
    std::ifstream in_;
    std::string error_;
    std::vector<Header> headers_;
    std::string line_end_ = "\n";
    std::streamoff body_offset_ = 0;
};

// Applies modifications to a header list with milter semantics (the order and index rules
// Postfix and Sendmail apply): delete/change count 1-based among same-named headers on the
// list as it stands; insert goes to the top; add goes to the end. Envelope and body changes
// are applied to the other out-parameters. `line_end` is used to write new values.
struct EditedMessage {
    std::vector<Header> headers;
    std::string mail_from;
    std::vector<std::string> recipients;
    bool body_replaced = false;
    std::string new_body;
    std::string line_end = "\n";  // used to fold new header values
};
void apply_modifications(const std::vector<Modification>& mods, EditedMessage& message);

// Writes "Name:" + raw value for each header (raw values keep their own folding).
std::string serialize_headers(const std::vector<Header>& headers, const std::string& line_end);

// A header value for a new header in raw form (leading space), with long values folded at
// whitespace to keep lines under 78 characters.
std::string make_raw_value(std::string_view name, std::string_view value,
                           const std::string& line_end);

}  // namespace relaytrust::cli
