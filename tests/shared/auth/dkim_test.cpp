// DKIM: the conformance vectors in ../shared/conformance/dkim (RFC 6376 and RFC 8463 examples
// plus derived cases), canonicalization edge cases, streaming in arbitrary chunks, and
// sign/verify round trips with keys made in the test.
#include "auth/dkim_canonical.h"
#include "auth/dkim_key.h"
#include "auth/dkim_signature.h"
#include "auth/dkim_signer.h"
#include "auth/dkim_text.h"
#include "auth/dkim_verifier.h"
#include "dns/zone_resolver.h"
#include "dns/zone_yaml.h"
#include "test_dkim_keys.h"

#include <doctest/doctest.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

namespace {

using namespace relaytrust::auth;
using relaytrust::dns::ZoneResolver;
using relaytrust::test::make_ed25519_key;
using relaytrust::test::make_rsa_key;
using relaytrust::test::TestKey;
namespace yaml = relaytrust::dns::yaml;
using Headers = std::vector<std::pair<std::string, std::string>>;

const std::filesystem::path kDkimDir =
    std::filesystem::path(RELAYTRUST_SHARED_DIR) / "conformance" / "dkim";

std::string read_file(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

std::string replace_all(std::string text, std::string_view from, std::string_view to) {
    for (std::size_t at = text.find(from); at != std::string::npos;
         at = text.find(from, at + to.size()))
        text.replace(at, from.size(), to);
    return text;
}

// A message in wire form split into (name, raw value) headers and the body.
struct Message {
    Headers headers;
    std::string body;
};

Message split_message(std::string_view wire) {
    Message message;
    std::size_t pos = 0;
    while (pos < wire.size()) {
        const std::size_t eol = wire.find("\r\n", pos);
        REQUIRE(eol != std::string_view::npos);
        if (eol == pos) {  // the empty line
            message.body = std::string(wire.substr(pos + 2));
            return message;
        }
        const std::string_view line = wire.substr(pos, eol - pos);
        if (line.front() == ' ' || line.front() == '\t') {
            REQUIRE(!message.headers.empty());
            message.headers.back().second += "\r\n" + std::string(line);
        } else {
            const std::size_t colon = line.find(':');
            REQUIRE(colon != std::string_view::npos);
            message.headers.emplace_back(std::string(line.substr(0, colon)),
                                         std::string(line.substr(colon + 1)));
        }
        pos = eol + 2;
    }
    return message;
}

std::string join_message(const Message& message) {
    std::string wire;
    for (const auto& [name, value] : message.headers)
        wire += name + ":" + value + "\r\n";
    return wire + "\r\n" + message.body;
}

std::vector<DkimResult> verify(relaytrust::dns::Resolver& resolver, const Message& message,
                               std::size_t chunk_size, DkimVerifierOptions options = {}) {
    DkimVerifier verifier(resolver, options);
    for (const auto& [name, value] : message.headers)
        verifier.on_header(name, value);
    const std::string_view body = message.body;
    for (std::size_t at = 0; at < body.size(); at += chunk_size)
        verifier.on_body(body.substr(at, chunk_size));
    return verifier.finish(std::chrono::steady_clock::now() + std::chrono::seconds(5));
}

// One vector file: DNS records, an empty line, the message with LF endings.
struct VectorFile {
    std::vector<std::pair<std::string, std::string>> records;
    std::string message_lf;
};

VectorFile read_vector_file(const std::filesystem::path& path) {
    const std::string text = read_file(path);
    VectorFile file;
    const std::size_t split = text.find("\n\n");
    REQUIRE(split != std::string::npos);
    std::istringstream records(text.substr(0, split));
    for (std::string line; std::getline(records, line);) {
        const std::size_t space = line.find(' ');
        REQUIRE(space != std::string::npos);
        file.records.emplace_back(line.substr(0, space), line.substr(space + 1));
    }
    file.message_lf = text.substr(split + 2);
    return file;
}

std::string scalar_of(const yaml::Node* node) {
    return node && node->is_scalar() ? node->scalar : "";
}

bool same_results(const std::vector<DkimResult>& a, const std::vector<DkimResult>& b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
        if (a[i].status != b[i].status || a[i].problem != b[i].problem) return false;
    }
    return true;
}

Message sample_message(std::string body) {
    Message message;
    message.headers = {{"From", " Alice <alice@example.org>"},
                       {"To", " bob@example.net"},
                       {"Subject", " Round\r\n  trip"},
                       {"Date", " Tue, 1 Oct 2024 12:00:00 +0000"},
                       {"Message-ID", " <1@example.org>"}};
    message.body = std::move(body);
    return message;
}

Message signed_message(const TestKey& key, DkimSignOptions options, std::string body) {
    Message message = sample_message(std::move(body));
    options.private_key = key.private_pem;
    if (options.domain.empty()) options.domain = "example.org";
    if (options.selector.empty()) options.selector = "sel";
    const DkimSignResult signature = dkim_sign(message.headers, message.body, options);
    REQUIRE_MESSAGE(signature.ok, signature.error);
    message.headers.insert(message.headers.begin(), {"DKIM-Signature", signature.header_value});
    return message;
}

}  // namespace

TEST_CASE("dkim: conformance vectors (../shared/conformance/dkim/cases.yml)") {
    if (!std::filesystem::exists(kDkimDir / "cases.yml")) {
        std::printf("SKIPPED: %s not present\n", kDkimDir.c_str());
        return;
    }
    const yaml::Stream stream = yaml::parse_stream(read_file(kDkimDir / "cases.yml"));
    REQUIRE_MESSAGE(stream.ok(), stream.error);
    REQUIRE(stream.documents.size() == 1);
    const yaml::Node& cases = stream.documents.front();
    REQUIRE(cases.is_sequence());

    std::size_t case_count = 0;
    std::size_t expectation_count = 0;
    for (const yaml::Node& test : cases.items) {
        const std::string id = scalar_of(test.find("id"));
        CAPTURE(id);
        const VectorFile file = read_vector_file(kDkimDir / scalar_of(test.find("file")));

        std::string message_lf = file.message_lf;
        if (const yaml::Node* replace = test.find("replace")) {
            REQUIRE(replace->items.size() == 2);
            REQUIRE(message_lf.find(replace->items[0].scalar) != std::string::npos);
            message_lf =
                replace_all(message_lf, replace->items[0].scalar, replace->items[1].scalar);
        }
        ZoneResolver zone;
        for (const auto& [name, text] : file.records)
            zone.add_txt(name, text);
        if (const yaml::Node* set = test.find("dns_set")) {
            for (const auto& [name, text] : set->fields) {
                zone.remove_name(name);
                zone.add_txt(name, text.scalar);
            }
        }
        if (const yaml::Node* removed = test.find("dns_delete")) {
            for (const yaml::Node& name : removed->items)
                zone.remove_name(name.scalar);
        }
        if (const yaml::Node* failing = test.find("dns_tempfail")) {
            for (const yaml::Node& name : failing->items)
                zone.set_failure(name.scalar, relaytrust::dns::Status::ServFail);
        }

        const Message message = split_message(replace_all(message_lf, "\n", "\r\n"));
        const std::vector<DkimResult> results = verify(zone, message, message.body.size() + 1);
        // Same verdicts when the body arrives one byte at a time.
        CHECK(same_results(results, verify(zone, message, 1)));

        const yaml::Node* expect = test.find("expect");
        REQUIRE(expect != nullptr);
        REQUIRE(results.size() == expect->items.size());
        for (std::size_t i = 0; i < results.size(); ++i) {
            const yaml::Node& expected = expect->items[i];
            const DkimResult& result = results[i];
            CAPTURE(i);
            CAPTURE(result.reason);
            CHECK(result.selector == scalar_of(expected.find("s")));
            if (expected.find("a") != nullptr)
                CHECK(result.algorithm == scalar_of(expected.find("a")));
            const bool should_pass = scalar_of(expected.find("verdict")) == "pass";
            CHECK((result.status == DkimStatus::Pass) == should_pass);
            CHECK(dkim_status_name(result.status) == scalar_of(expected.find("suggested")));
            ++expectation_count;
        }
        ++case_count;
    }
    std::printf("dkim vectors: %zu cases, %zu signature expectations checked\n", case_count,
                expectation_count);
    CHECK(case_count == 17);
    CHECK(expectation_count == 27);
}

TEST_CASE("dkim: signer reproduces the RFC 8463 signatures with the published keys") {
    if (!std::filesystem::exists(kDkimDir / "rfc8463-example.txt")) {
        std::printf("SKIPPED: %s not present\n", kDkimDir.c_str());
        return;
    }
    // Ed25519 and RSA PKCS#1 v1.5 signatures are deterministic: signing the same header block
    // with the published private keys must give the published b= values.
    const VectorFile file = read_vector_file(kDkimDir / "rfc8463-example.txt");
    Message message = split_message(replace_all(file.message_lf, "\n", "\r\n"));
    const std::optional<std::string> seed =
        decode_base64(read_file(kDkimDir / "keys" / "rfc8463-ed25519-test.seed.b64"));
    REQUIRE(seed);
    const std::string rsa_pem = read_file(kDkimDir / "keys" / "rfc8463-rsa-test.private.pem");

    for (std::size_t index = 0; index < 2; ++index) {
        const auto& [name, value] = message.headers[index];
        const DkimSignatureParse parsed = parse_dkim_signature(value);
        REQUIRE(parsed.ok);
        // The header block as the verifier hashes it: h= bottom-up, then the field itself.
        std::string blanked = value.substr(0, parsed.signature.b_value_begin) +
                              value.substr(parsed.signature.b_value_end);
        std::string block;
        std::vector<bool> used(message.headers.size(), false);
        for (const std::string& wanted : parsed.signature.signed_headers) {
            for (std::size_t i = message.headers.size(); i-- > 0;) {
                if (used[i] || !iequals_ascii(message.headers[i].first, wanted)) continue;
                used[i] = true;
                block += canonicalize_header(DkimCanonicalization::Relaxed,
                                             message.headers[i].first, message.headers[i].second);
                break;
            }
        }
        std::string own = canonicalize_header(DkimCanonicalization::Relaxed, name, blanked);
        block += own.substr(0, own.size() - 2);

        std::string error;
        const bool ed25519 = parsed.signature.algorithm == DkimAlgorithm::Ed25519Sha256;
        const std::optional<std::string> signature =
            sign_dkim_crypto(parsed.signature.algorithm, ed25519 ? *seed : rsa_pem, block, &error);
        REQUIRE_MESSAGE(signature, error);
        CHECK(*signature == parsed.signature.signature);
    }
}

TEST_CASE("dkim: tag-list syntax") {
    const DkimTagList folded = parse_dkim_tag_list(" a = 1 ;b=x y\r\n\tz ; c=;");
    REQUIRE(folded.ok);
    REQUIRE(folded.tags.size() == 3);
    CHECK(folded.find("a")->value == "1");
    CHECK(folded.find("b")->value == "x y\r\n\tz");
    CHECK(folded.find("c")->value.empty());
    CHECK(folded.find("d") == nullptr);

    CHECK_FALSE(parse_dkim_tag_list("a=1; a=2").ok);  // duplicate
    CHECK_FALSE(parse_dkim_tag_list("a=1; b").ok);    // no '='
    CHECK_FALSE(parse_dkim_tag_list("1a=1").ok);      // name must start with a letter
    CHECK_FALSE(parse_dkim_tag_list("a=x\x01y").ok);  // control character
    CHECK(parse_dkim_tag_list("").ok);
}

TEST_CASE("dkim: base64 with folding whitespace") {
    CHECK(decode_base64("aGVs\r\n bG8=") == std::optional<std::string>("hello"));
    CHECK(decode_base64("aGVsbG8") == std::optional<std::string>("hello"));  // padding optional
    CHECK_FALSE(decode_base64("aGVsbG8=x"));                                 // data after padding
    CHECK_FALSE(decode_base64("aGV*bG8="));
    CHECK_FALSE(decode_base64("a"));
    CHECK(encode_base64("hello") == "aGVsbG8=");
    CHECK(encode_base64("") == "");
}

TEST_CASE("dkim: DKIM-Signature parse errors are permanent and keep d=/s=") {
    const std::string base = " v=1; a=rsa-sha256; d=example.org; s=sel; h=from:to; bh=YWJj; b=YWJj";
    REQUIRE(parse_dkim_signature(base).ok);

    const std::vector<std::pair<std::string, std::string>> broken = {
        {"v=2", replace_all(base, "v=1", "v=2")},
        {"unknown a=", replace_all(base, "rsa-sha256", "rsa-md5")},
        {"h= without From", replace_all(base, "h=from:to", "h=to:subject")},
        {"empty h= entry", replace_all(base, "h=from:to", "h=from::to")},
        {"missing bh=", replace_all(base, " bh=YWJj;", "")},
        {"bad b= base64", replace_all(base, "b=YWJj", "b=Y*Jj")},
        {"i= outside d=", base + "; i=joe@example.com"},
        {"i= without @", base + "; i=joe"},
        {"q= without dns/txt", base + "; q=http"},
        {"l= not a number", base + "; l=12a"},
        {"x= before t=", base + "; t=200; x=100"},
        {"bad c=", base + "; c=relaxed/fancy"},
        {"duplicate tag", base + "; d=example.org"},
    };
    for (const auto& [what, value] : broken) {
        CAPTURE(what);
        const DkimSignatureParse parsed = parse_dkim_signature(value);
        CHECK_FALSE(parsed.ok);
        CHECK_FALSE(parsed.error.empty());
    }
    const DkimSignatureParse no_from = parse_dkim_signature(broken[2].second);
    CHECK(no_from.signature.domain == "example.org");
    CHECK(no_from.signature.selector == "sel");

    const DkimSignatureParse full = parse_dkim_signature(
        base + "; c=relaxed; i=@Mail.Example.ORG; l=0010; q=DNS/TXT; x=200; t=100");
    REQUIRE(full.ok);
    CHECK(full.signature.header_canonicalization == DkimCanonicalization::Relaxed);
    CHECK(full.signature.body_canonicalization == DkimCanonicalization::Simple);
    CHECK(full.signature.body_length == std::optional<std::uint64_t>(10));
    CHECK(full.signature.identity == "@Mail.Example.ORG");
    CHECK(full.signature.key_record_name() == "sel._domainkey.example.org");

    const DkimSignatureParse huge = parse_dkim_signature(base + "; l=" + std::string(70, '9'));
    REQUIRE(huge.ok);
    CHECK(huge.signature.body_length == std::optional<std::uint64_t>(UINT64_MAX));
}

TEST_CASE("dkim: key record parsing") {
    const DkimKeyParse plain = parse_dkim_key_record("v=DKIM1; p=YWJj");
    REQUIRE(plain.ok);
    CHECK(plain.key.type == DkimKeyType::Rsa);
    CHECK(plain.key.allows_hash(DkimHash::Sha1));
    CHECK_FALSE(plain.key.revoked());

    const DkimKeyParse flags =
        parse_dkim_key_record("k=ed25519; h=sha256 : SHA1; t=y:s; s=email; p=");
    REQUIRE(flags.ok);
    CHECK(flags.key.type == DkimKeyType::Ed25519);
    CHECK(flags.key.testing);
    CHECK(flags.key.strict_identity);
    CHECK(flags.key.revoked());
    CHECK(flags.key.allows_hash(DkimHash::Sha1));

    const DkimKeyParse sha256_only = parse_dkim_key_record("h=sha256; p=YWJj");
    REQUIRE(sha256_only.ok);
    CHECK_FALSE(sha256_only.key.allows_hash(DkimHash::Sha1));

    CHECK_FALSE(parse_dkim_key_record("p=YWJj; v=DKIM1").ok);  // v= must come first
    CHECK_FALSE(parse_dkim_key_record("v=DKIM2; p=YWJj").ok);
    CHECK_FALSE(parse_dkim_key_record("k=dsa; p=YWJj").ok);
    CHECK_FALSE(parse_dkim_key_record("s=tls; p=YWJj").ok);   // not for email
    CHECK_FALSE(parse_dkim_key_record("v=DKIM1; k=rsa").ok);  // no p=
    CHECK_FALSE(parse_dkim_key_record("p=Y*Jj").ok);
    CHECK(parse_dkim_key_record("s=*; p=YWJj").ok);
}

TEST_CASE("dkim: header canonicalization (RFC 6376 §3.4.5 example)") {
    CHECK(canonicalize_header(DkimCanonicalization::Relaxed, "A", " X") == "a:X\r\n");
    CHECK(canonicalize_header(DkimCanonicalization::Relaxed, "B ", " Y\t\r\n\tZ  ") == "b:Y Z\r\n");
    CHECK(canonicalize_header(DkimCanonicalization::Simple, "B ", " Y\t\r\n\tZ  ") ==
          "B : Y\t\r\n\tZ  \r\n");
    CHECK(canonicalize_header(DkimCanonicalization::Relaxed, "Subject", "") == "subject:\r\n");
    CHECK(normalize_crlf(" a\n b\r\n c") == " a\r\n b\r\n c");
}

TEST_CASE("dkim: body canonicalization edge cases") {
    using enum DkimCanonicalization;
    // RFC 6376 §3.4.5.
    CHECK(canonicalize_body(Relaxed, " C \r\nD \t E\r\n\r\n\r\n") == " C\r\nD E\r\n");
    CHECK(canonicalize_body(Simple, " C \r\nD \t E\r\n\r\n\r\n") == " C \r\nD \t E\r\n");
    // Empty bodies (§3.4.3, §3.4.4).
    CHECK(canonicalize_body(Simple, "") == "\r\n");
    CHECK(canonicalize_body(Simple, "\r\n\r\n") == "\r\n");
    CHECK(canonicalize_body(Relaxed, "") == "");
    CHECK(canonicalize_body(Relaxed, "\r\n \t\r\n") == "");
    // Missing final CRLF is added by both.
    CHECK(canonicalize_body(Simple, "a") == "a\r\n");
    CHECK(canonicalize_body(Relaxed, "a  ") == "a\r\n");
    // Whitespace-only lines are empty lines only for relaxed.
    CHECK(canonicalize_body(Simple, "a\r\n \r\n") == "a\r\n \r\n");
    CHECK(canonicalize_body(Relaxed, "a\r\n \r\n\r\nb") == "a\r\n\r\n\r\nb\r\n");
    // Leading WSP becomes one SP; inner empty lines stay.
    CHECK(canonicalize_body(Relaxed, "\t\tx\r\n\r\ny\r\n") == " x\r\n\r\ny\r\n");
    // Bare LF is a line end; a lone CR is data.
    CHECK(canonicalize_body(Simple, "a\nb\n\n") == "a\r\nb\r\n");
    CHECK(canonicalize_body(Simple, "a\rb\r\n") == "a\rb\r\n");
    CHECK(canonicalize_body(Relaxed, "a \r b\r\n") == "a \r b\r\n");
    CHECK(canonicalize_body(Simple, "a\r") == "a\r\r\n");
}

TEST_CASE("dkim: streaming gives the same canonical body for any chunking") {
    std::mt19937 random(20240601);
    constexpr std::string_view alphabet = "ab \t\r\n\n\r\n";
    for (int round = 0; round < 300; ++round) {
        std::string body;
        const std::size_t length = random() % 200;
        for (std::size_t i = 0; i < length; ++i)
            body.push_back(alphabet[random() % alphabet.size()]);
        if (round % 3 == 0) body += "\r\n\r\n \r\n";
        for (const DkimCanonicalization mode :
             {DkimCanonicalization::Simple, DkimCanonicalization::Relaxed}) {
            const std::string whole = canonicalize_body(mode, body);
            std::string streamed;
            DkimBodyCanonicalizer canonicalizer(mode,
                                                [&](std::string_view bytes) { streamed += bytes; });
            for (std::size_t at = 0; at < body.size();) {
                const std::size_t size = 1 + random() % 7;
                canonicalizer.feed(std::string_view(body).substr(at, size));
                at += size;
            }
            canonicalizer.finish();
            CAPTURE(body);
            REQUIRE(streamed == whole);
        }
    }
}

TEST_CASE("dkim: body hasher with l= and chunking") {
    const std::string body = "line one\r\nline  two \r\n\r\n\r\n";
    const std::string canonical = canonicalize_body(DkimCanonicalization::Relaxed, body);
    for (const std::size_t chunk : {std::size_t(1), std::size_t(2), std::size_t(5), body.size()}) {
        DkimBodyHasher whole(DkimCanonicalization::Relaxed, DkimHash::Sha256, std::nullopt);
        DkimBodyHasher limited(DkimCanonicalization::Relaxed, DkimHash::Sha256, 5);
        DkimBodyHasher too_long(DkimCanonicalization::Relaxed, DkimHash::Sha1,
                                canonical.size() + 1);
        for (std::size_t at = 0; at < body.size(); at += chunk) {
            const std::string_view piece = std::string_view(body).substr(at, chunk);
            whole.feed(piece);
            limited.feed(piece);
            too_long.feed(piece);
        }
        CHECK(whole.finish().digest == dkim_digest(DkimHash::Sha256, canonical));
        CHECK(whole.finish().canonical_length == canonical.size());
        CHECK(limited.finish().digest == dkim_digest(DkimHash::Sha256, canonical.substr(0, 5)));
        CHECK_FALSE(limited.finish().length_exceeds_body);
        CHECK(too_long.finish().length_exceeds_body);
        CHECK(too_long.finish().digest.size() == 20);
    }
}

TEST_CASE("dkim: sign and verify round trips (RSA 2048, Ed25519, simple and relaxed)") {
    const TestKey rsa = make_rsa_key(2048);
    const TestKey ed25519 = make_ed25519_key();
    ZoneResolver zone;
    zone.add_txt("rsa._domainkey.example.org", rsa.record);
    zone.add_txt("ed._domainkey.example.org", ed25519.record);

    for (const auto canon : {DkimCanonicalization::Simple, DkimCanonicalization::Relaxed}) {
        for (const bool use_ed25519 : {false, true}) {
            DkimSignOptions options;
            options.algorithm =
                use_ed25519 ? DkimAlgorithm::Ed25519Sha256 : DkimAlgorithm::RsaSha256;
            options.selector = use_ed25519 ? "ed" : "rsa";
            options.header_canonicalization = canon;
            options.body_canonicalization = canon;
            options.signed_headers = {"From", "To", "Subject", "Subject", "Date"};  // over-signed
            const Message message = signed_message(use_ed25519 ? ed25519 : rsa, options,
                                                   "Hello,\r\n\r\n  body  text\r\n\r\n");
            const auto results = verify(zone, message, 3);
            REQUIRE(results.size() == 1);
            CAPTURE(results[0].reason);
            CHECK(results[0].status == DkimStatus::Pass);
            CHECK(results[0].key_bits == (use_ed25519 ? 256u : 2048u));
            CHECK(results[0].domain == "example.org");
            CHECK(results[0].header_b.size() == 8);

            // The same message as one string, reparsed: still passes.
            CHECK(verify(zone, split_message(join_message(message)), 1000)[0].status ==
                  DkimStatus::Pass);

            Message tampered = message;
            tampered.body += "P.S. added\r\n";
            CHECK(verify(zone, tampered, 7)[0].problem == DkimProblem::BodyHashMismatch);

            Message added_subject = message;  // over-signing makes an extra Subject fatal
            added_subject.headers.emplace_back("Subject", " second subject");
            CHECK(verify(zone, added_subject, 7)[0].problem == DkimProblem::SignatureMismatch);

            Message unsigned_header = message;  // headers outside h= do not matter
            unsigned_header.headers.emplace_back("X-Mailer", " something");
            CHECK(verify(zone, unsigned_header, 7)[0].status == DkimStatus::Pass);
        }
    }
}

TEST_CASE("dkim: l= body length, x= expiry, rsa-sha1, key limits and flags") {
    const TestKey rsa = make_rsa_key(1024);
    ZoneResolver zone;
    zone.add_txt("sel._domainkey.example.org", rsa.record);

    DkimSignOptions with_length;
    with_length.include_body_length = true;
    Message message = signed_message(rsa, with_length, "signed part\r\n");
    message.body += "appended by a mailing list\r\n";
    CHECK(verify(zone, message, 4)[0].status == DkimStatus::Pass);
    message.body = "sig";  // shorter than l=
    CHECK(verify(zone, message, 4)[0].problem == DkimProblem::BodyLengthTooLong);

    DkimSignOptions expiring;
    expiring.timestamp = 1000;
    expiring.expiration = 2000;
    const Message expired = signed_message(rsa, expiring, "x\r\n");
    DkimVerifierOptions at_1500;
    at_1500.now_unix = 1500;
    CHECK(verify(zone, expired, 4, at_1500)[0].status == DkimStatus::Pass);
    DkimVerifierOptions at_2001;
    at_2001.now_unix = 2001;
    CHECK(verify(zone, expired, 4, at_2001)[0].problem == DkimProblem::Expired);

    DkimSignOptions sha1;
    sha1.algorithm = DkimAlgorithm::RsaSha1;
    const Message sha1_message = signed_message(rsa, sha1, "x\r\n");
    const DkimResult sha1_result = verify(zone, sha1_message, 4)[0];
    CHECK(sha1_result.status == DkimStatus::Pass);
    CHECK(sha1_result.weak_sha1);
    CHECK(sha1_result.algorithm == "rsa-sha1");
    zone.remove_name("sel._domainkey.example.org");
    zone.add_txt("sel._domainkey.example.org",
                 replace_all(rsa.record, "k=rsa; ", "k=rsa; h=sha256; t=y; "));
    const DkimResult sha1_refused = verify(zone, sha1_message, 4)[0];
    CHECK(sha1_refused.status == DkimStatus::PermError);
    CHECK(sha1_refused.problem == DkimProblem::KeyHashNotAllowed);
    CHECK(sha1_refused.key_testing);

    // RFC 8301: keys under 1024 bits are not acceptable; the limit is configurable.
    const TestKey small = make_rsa_key(768);
    zone.add_txt("small._domainkey.example.org", small.record);
    DkimSignOptions small_options;
    small_options.selector = "small";
    const Message small_message = signed_message(small, small_options, "x\r\n");
    const DkimResult refused = verify(zone, small_message, 4)[0];
    CHECK(refused.status == DkimStatus::PermError);
    CHECK(refused.problem == DkimProblem::KeyUnusable);
    CHECK(refused.key_bits == 768);
    DkimVerifierOptions permissive;
    permissive.key_limits.min_rsa_bits = 512;
    CHECK(verify(zone, small_message, 4, permissive)[0].status == DkimStatus::Pass);

    // t=s with i= equal to d= is fine.
    const TestKey strict = make_rsa_key(1024, "t=s; ");
    zone.add_txt("strict._domainkey.example.org", strict.record);
    DkimSignOptions strict_options;
    strict_options.selector = "strict";
    strict_options.identity = "alice@example.org";
    CHECK(verify(zone, signed_message(strict, strict_options, "x\r\n"), 4)[0].status ==
          DkimStatus::Pass);
    strict_options.identity = "alice@mail.example.org";
    CHECK(verify(zone, signed_message(strict, strict_options, "x\r\n"), 4)[0].problem ==
          DkimProblem::StrictIdentity);
}

TEST_CASE("dkim: key lookup timeouts give temperror, never a hang") {
    // A resolver that never answers.
    class SilentResolver final : public relaytrust::dns::Resolver {
      public:
        void lookup(std::string_view, relaytrust::dns::RecordType, Callback callback) override {
            parked.push_back(std::move(callback));
        }
        std::vector<Callback> parked;
    } silent;
    const TestKey key = make_ed25519_key();
    DkimSignOptions options;
    options.algorithm = DkimAlgorithm::Ed25519Sha256;
    const Message message = signed_message(key, options, "x\r\n");

    DkimVerifier verifier(silent);
    for (const auto& [name, value] : message.headers)
        verifier.on_header(name, value);
    verifier.on_body(message.body);
    REQUIRE(silent.parked.size() == 1);  // the lookup started at the header
    const auto started = std::chrono::steady_clock::now();
    const auto& results = verifier.finish(started + std::chrono::milliseconds(50));
    CHECK(std::chrono::steady_clock::now() - started < std::chrono::seconds(2));
    REQUIRE(results.size() == 1);
    CHECK(results[0].status == DkimStatus::TempError);
    CHECK(results[0].problem == DkimProblem::DnsTimeout);
    // A late answer after the deadline is dropped harmlessly.
    relaytrust::dns::Answer late;
    late.status = relaytrust::dns::Status::Ok;
    late.texts = {key.record};
    silent.parked[0](late);
    CHECK(verifier.finish(started)[0].status == DkimStatus::TempError);

    // Answers from another thread, with latency, are waited for.
    ZoneResolver slow(ZoneResolver::Delivery::WorkerThread);
    slow.set_latency(std::chrono::milliseconds(20));
    slow.add_txt("sel._domainkey.example.org", key.record);
    CHECK(verify(slow, message, 2)[0].status == DkimStatus::Pass);
    slow.set_failure("sel._domainkey.example.org", relaytrust::dns::Status::Timeout);
    CHECK(verify(slow, message, 2)[0].status == DkimStatus::TempError);
}

TEST_CASE("dkim: several signatures, shared lookups and the signature limit") {
    const TestKey rsa = make_rsa_key(1024);
    const TestKey ed25519 = make_ed25519_key();
    ZoneResolver zone;
    zone.add_txt("sel._domainkey.example.org", rsa.record);
    zone.add_txt("ed._domainkey.example.org", ed25519.record);

    Message message = signed_message(rsa, {}, "body\r\n");
    DkimSignOptions ed_options;
    ed_options.algorithm = DkimAlgorithm::Ed25519Sha256;
    ed_options.selector = "ed";
    ed_options.private_key = ed25519.private_pem;
    ed_options.domain = "example.org";
    const DkimSignResult second = dkim_sign(message.headers, message.body, ed_options);
    REQUIRE(second.ok);
    message.headers.insert(message.headers.begin(), {"DKIM-Signature", second.header_value});
    message.headers.insert(message.headers.begin(),
                           {"DKIM-Signature", " v=1; a=rsa-sha256; d=other.example; s=x; h=to"});

    zone.reset_queries();
    const auto results = verify(zone, message, 3);
    REQUIRE(results.size() == 3);
    CHECK(results[0].status == DkimStatus::PermError);  // broken, listed first
    CHECK(results[0].domain == "other.example");
    CHECK(results[1].status == DkimStatus::Pass);  // ed25519
    CHECK(results[1].algorithm == "ed25519-sha256");
    CHECK(results[2].status == DkimStatus::Pass);  // rsa
    CHECK(zone.query_count() == 2);                // no lookup for the broken one
    CHECK(summarize_dkim(results) == DkimStatus::Pass);

    DkimVerifierOptions one;
    one.max_signatures = 1;
    const auto limited = verify(zone, message, 3, one);
    REQUIRE(limited.size() == 3);
    CHECK(limited[0].status == DkimStatus::PermError);
    CHECK(limited[1].status == DkimStatus::Neutral);
    CHECK(limited[1].problem == DkimProblem::NotEvaluated);
    CHECK(limited[2].status == DkimStatus::Neutral);

    std::vector<DkimResult> mixed(3);
    mixed[0].status = DkimStatus::TempError;
    mixed[1].status = DkimStatus::Fail;
    mixed[2].status = DkimStatus::PermError;
    CHECK(summarize_dkim(mixed) == DkimStatus::Fail);
    mixed[1].status = DkimStatus::Neutral;
    CHECK(summarize_dkim(mixed) == DkimStatus::TempError);
    CHECK(summarize_dkim({}) == DkimStatus::None);
}

TEST_CASE("dkim: the body is not hashed for signatures whose key lookup came back empty") {
    const TestKey key = make_ed25519_key();
    DkimSignOptions options;
    options.algorithm = DkimAlgorithm::Ed25519Sha256;
    const Message message = signed_message(key, options, "body\r\n");
    auto feed_headers = [&](DkimVerifier& verifier) {
        for (const auto& [name, value] : message.headers)
            verifier.on_header(name, value);
    };
    const auto deadline = [] { return std::chrono::steady_clock::now() + std::chrono::seconds(2); };

    // No key (NXDOMAIN), NODATA, a temporary failure: decided without the body.
    for (const auto status : {relaytrust::dns::Status::NxDomain, relaytrust::dns::Status::Ok,
                              relaytrust::dns::Status::ServFail}) {
        CAPTURE(static_cast<int>(status));
        ZoneResolver zone;
        if (status == relaytrust::dns::Status::Ok) zone.add_name("sel._domainkey.example.org");
        if (status == relaytrust::dns::Status::ServFail)
            zone.set_failure("sel._domainkey.example.org", status);
        DkimVerifier verifier(zone);
        feed_headers(verifier);
        CHECK_FALSE(verifier.wants_body());
        verifier.on_body(message.body);
        const auto& results = verifier.finish(deadline());
        REQUIRE(results.size() == 1);
        CHECK(results[0].status == (status == relaytrust::dns::Status::ServFail
                                        ? DkimStatus::TempError
                                        : DkimStatus::PermError));
    }

    // A key: the body is wanted and the signature passes.
    ZoneResolver zone;
    zone.add_txt("sel._domainkey.example.org", key.record);
    DkimVerifier verifier(zone);
    feed_headers(verifier);
    CHECK(verifier.wants_body());
    verifier.on_body(message.body);
    CHECK(verifier.finish(deadline())[0].status == DkimStatus::Pass);

    // The lookup still open when the body comes: hashed, and it passes once the key arrives.
    ZoneResolver slow(ZoneResolver::Delivery::WorkerThread);
    slow.set_latency(std::chrono::milliseconds(100));
    slow.add_txt("sel._domainkey.example.org", key.record);
    DkimVerifier waiting(slow);
    feed_headers(waiting);
    CHECK(waiting.wants_body());
    waiting.on_body(message.body);
    CHECK(waiting.finish(deadline())[0].status == DkimStatus::Pass);
}
