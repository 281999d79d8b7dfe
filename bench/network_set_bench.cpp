// NetworkSet lookup cost over 10k random prefixes (mixed IPv4/IPv6, fixed seed), for addresses
// that match an include entry ("hit") and addresses that do not ("miss").
#include "net/network_set.h"

#include <benchmark/benchmark.h>

#include <cstdint>
#include <random>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace {

using relaytrust::net::IpAddress;
using relaytrust::net::NetworkSet;

constexpr std::size_t kPrefixCount = 10'000;
constexpr std::size_t kProbeCount = 4096;  // power of two: the loop index is masked

IpAddress random_v4(std::mt19937_64& random) {
    IpAddress address;
    address.bytes[10] = address.bytes[11] = 0xff;
    for (int i = 12; i < 16; ++i)
        address.bytes[i] = std::uint8_t(random());
    address.is_v4 = true;
    return address;
}

IpAddress random_v6(std::mt19937_64& random) {
    IpAddress address;
    for (auto& byte : address.bytes)
        byte = std::uint8_t(random());
    address.bytes[0] = std::uint8_t(0x20 | (address.bytes[0] & 0x1f));  // global unicast 2000::/3
    return address;
}

// Zeroes every bit from `first_host_bit` on (a 128-bit index).
IpAddress network_of(IpAddress address, unsigned first_host_bit) {
    for (unsigned bit = first_host_bit; bit < 128; ++bit) {
        address.bytes[bit / 8] &= std::uint8_t(~(0x80u >> (bit % 8)));
    }
    return address;
}

struct Fixture {
    NetworkSet set;
    std::vector<std::string> entries;
    std::vector<IpAddress> hits;
    std::vector<IpAddress> misses;
    std::vector<std::string> hit_texts;

    Fixture() {
        std::mt19937_64 random(42);
        // Realistic shapes: IPv4 /12-/32 (mostly /16-/28), IPv6 /24-/64; 60% IPv4; 10% of
        // entries are exclusions, so lookups also walk through exclude-then-include nesting.
        while (entries.size() < kPrefixCount) {
            const bool v4 = random() % 10 < 6;
            const unsigned length =
                v4 ? 12 + unsigned(random() % 21) : 24 + unsigned(random() % 41);
            const IpAddress network =
                network_of(v4 ? random_v4(random) : random_v6(random), (v4 ? 96 : 0) + length);
            const bool exclude = random() % 10 == 0;
            // Built with += : g++ 12 -O3 misreports "lit" + std::string&& (-Wrestrict, PR105651).
            std::string entry = exclude ? "!" : "";
            entry += network.to_string();
            entry += '/';
            entry += std::to_string(length);
            entries.push_back(std::move(entry));
            if (const std::string error = set.add(entries.back()); !error.empty()) {
                throw std::runtime_error(error);
            }
        }
        // Hits: random addresses inside random entries that the set accepts.
        while (hits.size() < kProbeCount) {
            const std::string& entry = entries[random() % entries.size()];
            if (entry[0] == '!') continue;
            const auto slash = entry.find('/');
            IpAddress address = *IpAddress::parse(std::string_view(entry).substr(0, slash));
            const unsigned length = unsigned(std::stoul(entry.substr(slash + 1)));
            const unsigned first_host_bit = (address.is_v4 ? 96 : 0) + length;
            for (unsigned bit = first_host_bit; bit < 128; ++bit) {
                if (random() & 1) address.bytes[bit / 8] |= std::uint8_t(0x80u >> (bit % 8));
            }
            if (set.contains(address)) hits.push_back(address);
        }
        // Misses: uniformly random addresses of both families that the set rejects.
        while (misses.size() < kProbeCount) {
            const IpAddress address = random() % 10 < 6 ? random_v4(random) : random_v6(random);
            if (!set.contains(address)) misses.push_back(address);
        }
        for (const IpAddress& address : hits)
            hit_texts.push_back(address.to_string());
    }
};

const Fixture& fixture() {
    static const Fixture instance;
    return instance;
}

void run_lookups(benchmark::State& state, const std::vector<IpAddress>& probes, bool expected) {
    const NetworkSet& set = fixture().set;
    std::size_t index = 0;
    std::size_t wrong = 0;
    for (auto _ : state) {
        const bool found = set.contains(probes[index++ & (kProbeCount - 1)]);
        benchmark::DoNotOptimize(found);
        wrong += found != expected;
    }
    if (wrong != 0) state.SkipWithError("lookup gave an unexpected answer");
    state.SetItemsProcessed(state.iterations());
}

void BM_NetworkSet_LookupHit(benchmark::State& state) {
    run_lookups(state, fixture().hits, true);
}
BENCHMARK(BM_NetworkSet_LookupHit);

void BM_NetworkSet_LookupMiss(benchmark::State& state) {
    run_lookups(state, fixture().misses, false);
}
BENCHMARK(BM_NetworkSet_LookupMiss);

// What a front end actually does per connection: parse the peer's text address, then look up.
void BM_NetworkSet_LookupText(benchmark::State& state) {
    const Fixture& data = fixture();
    std::size_t index = 0;
    for (auto _ : state) {
        benchmark::DoNotOptimize(data.set.contains(data.hit_texts[index++ & (kProbeCount - 1)]));
    }
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_NetworkSet_LookupText);

void BM_NetworkSet_Build10k(benchmark::State& state) {
    const std::vector<std::string>& entries = fixture().entries;
    for (auto _ : state) {
        NetworkSet set;
        for (const std::string& entry : entries)
            benchmark::DoNotOptimize(set.add(entry));
        benchmark::DoNotOptimize(set.size());
    }
    state.SetItemsProcessed(state.iterations() * std::int64_t(entries.size()));
}
BENCHMARK(BM_NetworkSet_Build10k)->Unit(benchmark::kMillisecond);

}  // namespace
