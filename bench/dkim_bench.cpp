// DKIM verifications per second for a 100 KB message, signed with rsa-sha256 (2048-bit key) and
// ed25519-sha256, relaxed/relaxed, the key served by an in-memory resolver (no DNS latency).
// One iteration is the whole per-message work: headers in, body in 16 KB chunks (a milter
// sees chunks of up to 64 KB), finish() with body hash, header hash and signature check.
// Also the body canonicalization + hashing alone, to show where the time goes.
#include "auth/dkim_canonical.h"
#include "auth/dkim_signer.h"
#include "auth/dkim_text.h"
#include "auth/dkim_verifier.h"
#include "dns/zone_resolver.h"

#include <benchmark/benchmark.h>

#include <chrono>
#include <memory>
#include <optional>
#include <random>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace {

using namespace relaytrust::auth;
using Headers = std::vector<std::pair<std::string, std::string>>;

constexpr std::size_t kBodyBytes = 100 * 1024;
constexpr std::size_t kChunkBytes = 16 * 1024;

// Text lines of 40..76 characters with occasional double spaces and empty lines, like mail.
std::string make_body() {
    std::mt19937 random(42);
    std::string body;
    while (body.size() < kBodyBytes) {
        const std::size_t length = 40 + random() % 37;
        for (std::size_t i = 0; i < length; ++i) {
            const unsigned roll = random() % 100;
            body.push_back(roll < 15 ? ' ' : static_cast<char>('a' + roll % 26));
        }
        body += random() % 10 == 0 ? "\r\n\r\n" : "\r\n";
    }
    return body;
}

struct SignedMessage {
    Headers headers;
    std::string body;
    relaytrust::dns::ZoneResolver zone;
};

std::unique_ptr<SignedMessage> make_message(bool ed25519) {
    const DkimAlgorithm algorithm =
        ed25519 ? DkimAlgorithm::Ed25519Sha256 : DkimAlgorithm::RsaSha256;
    const std::optional<DkimKeyPair> key = generate_dkim_key(algorithm, 2048);
    if (!key) throw std::runtime_error("key generation failed");
    auto message = std::make_unique<SignedMessage>();
    message->headers = {{"Received",
                         " from client.example.org (client.example.org [192.0.2.1])\r\n"
                         "\tby mx.example.net (Postfix) with ESMTPS id 4Xy2Z3;\r\n"
                         "\tTue, 1 Oct 2024 12:00:00 +0000"},
                        {"From", " Alice <alice@example.org>"},
                        {"To", " Bob <bob@example.net>"},
                        {"Subject", " Quarterly report"},
                        {"Date", " Tue, 1 Oct 2024 12:00:00 +0000"},
                        {"Message-ID", " <20241001120000.1@example.org>"},
                        {"MIME-Version", " 1.0"},
                        {"Content-Type", " text/plain; charset=utf-8"}};
    message->body = make_body();
    DkimSignOptions options;
    options.algorithm = algorithm;
    options.domain = "example.org";
    options.selector = "bench";
    options.private_key = key->private_pem;
    options.signed_headers = {"From",       "To",           "Subject",     "Date",
                              "Message-ID", "MIME-Version", "Content-Type"};
    const DkimSignResult signature = dkim_sign(message->headers, message->body, options);
    if (!signature.ok) throw std::runtime_error("signing failed: " + signature.error);
    message->headers.insert(message->headers.begin(), {"DKIM-Signature", signature.header_value});
    message->zone.add_txt("bench._domainkey.example.org", key->record);
    return message;
}

void verify_message(benchmark::State& state, bool ed25519) {
    const std::unique_ptr<SignedMessage> message = make_message(ed25519);
    const std::string_view body = message->body;
    for (auto _ : state) {
        DkimVerifier verifier(message->zone);
        for (const auto& [name, value] : message->headers)
            verifier.on_header(name, value);
        for (std::size_t at = 0; at < body.size(); at += kChunkBytes)
            verifier.on_body(body.substr(at, kChunkBytes));
        const auto& results =
            verifier.finish(std::chrono::steady_clock::now() + std::chrono::seconds(5));
        if (results.size() != 1 || results[0].status != DkimStatus::Pass) {
            state.SkipWithError("signature did not verify");
            break;
        }
        benchmark::DoNotOptimize(results.data());
    }
    state.SetItemsProcessed(state.iterations());
    state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(body.size()));
}

void BM_DkimVerify100KB_RsaSha256_2048(benchmark::State& state) {
    verify_message(state, false);
}
void BM_DkimVerify100KB_Ed25519Sha256(benchmark::State& state) {
    verify_message(state, true);
}

void body_hash(benchmark::State& state, DkimCanonicalization mode) {
    const std::string body = make_body();
    for (auto _ : state) {
        DkimBodyHasher hasher(mode, DkimHash::Sha256, std::nullopt);
        for (std::size_t at = 0; at < body.size(); at += kChunkBytes)
            hasher.feed(std::string_view(body).substr(at, kChunkBytes));
        benchmark::DoNotOptimize(hasher.finish().digest.data());
    }
    state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(body.size()));
}

void BM_DkimBodyHash100KB_Relaxed(benchmark::State& state) {
    body_hash(state, DkimCanonicalization::Relaxed);
}
void BM_DkimBodyHash100KB_Simple(benchmark::State& state) {
    body_hash(state, DkimCanonicalization::Simple);
}

}  // namespace

BENCHMARK(BM_DkimVerify100KB_RsaSha256_2048);
BENCHMARK(BM_DkimVerify100KB_Ed25519Sha256);
BENCHMARK(BM_DkimBodyHash100KB_Relaxed);
BENCHMARK(BM_DkimBodyHash100KB_Simple);
