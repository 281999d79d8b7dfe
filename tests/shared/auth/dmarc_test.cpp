// DMARC: the cases in ../shared/conformance/dmarc/cases.yml (record parsing, RFC 9989 tree-walk
// evaluation, alignment pairs) plus the gaps that file lists: From handling, duplicate and split
// records, DNS failures, PSL mode, pct= and t=.
#include "auth/dmarc_author.h"
#include "auth/dmarc_record.h"
#include "auth/dmarc_verifier.h"
#include "dns/zone_resolver.h"
#include "dns/zone_yaml.h"

#include <doctest/doctest.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

namespace {

using namespace relaytrust::auth;
using relaytrust::dns::RecordType;
using relaytrust::dns::ZoneResolver;
namespace yaml = relaytrust::dns::yaml;

const std::filesystem::path kCases =
    std::filesystem::path(RELAYTRUST_SHARED_DIR) / "conformance" / "dmarc" / "cases.yml";

std::chrono::steady_clock::time_point soon() {
    return std::chrono::steady_clock::now() + std::chrono::seconds(5);
}

std::string scalar_of(const yaml::Node* node) {
    return node && node->is_scalar() ? node->scalar : "";
}

std::vector<std::string> list_of(const yaml::Node* node) {
    std::vector<std::string> out;
    if (node == nullptr) return out;
    for (const yaml::Node& item : node->items)
        out.push_back(item.scalar);
    return out;
}

const yaml::Node& load_cases() {
    static const yaml::Stream stream = [] {
        std::ifstream in(kCases, std::ios::binary);
        std::ostringstream text;
        text << in.rdbuf();
        return yaml::parse_stream(text.str());
    }();
    REQUIRE_MESSAGE(stream.ok(), stream.error);
    REQUIRE(stream.documents.size() == 1);
    return stream.documents.front();
}

std::string psd_letter(DmarcPsd psd) {
    return psd == DmarcPsd::Yes ? "y" : psd == DmarcPsd::No ? "n" : "u";
}

std::string alignment_letter(DmarcAlignmentMode mode) {
    return mode == DmarcAlignmentMode::Strict ? "s" : "r";
}

// zone: {name: [{TYPE: value}, ...]}; names not listed are NXDOMAIN.
void load_zone(ZoneResolver& zone, const yaml::Node* node) {
    if (node == nullptr) return;
    for (const auto& [name, records] : node->fields) {
        for (const yaml::Node& record : records.items) {
            REQUIRE(record.fields.size() == 1);
            const auto& [type, value] = record.fields.front();
            if (type == "TXT") {
                zone.add_txt(name, value.scalar);
            } else if (type == "A" || type == "AAAA") {
                REQUIRE(zone.add_address(name, value.scalar));
            } else {
                FAIL("unsupported record type in a DMARC case: ", type);
            }
        }
    }
}

DmarcIdentifier identifier_of(const yaml::Node& node) {
    return DmarcIdentifier{scalar_of(node.find("domain")),
                           scalar_of(node.find("result")) == "pass"};
}

}  // namespace

TEST_CASE("dmarc: record_parse cases") {
    if (!std::filesystem::exists(kCases)) {
        std::printf("SKIPPED: %s not present\n", kCases.c_str());
        return;
    }
    const yaml::Node* cases = load_cases().find("record_parse");
    REQUIRE(cases != nullptr);
    std::size_t checked = 0;
    for (const yaml::Node& test : cases->items) {
        const std::string id = scalar_of(test.find("id"));
        CAPTURE(id);
        const DmarcRecordParse parsed = parse_dmarc_record(scalar_of(test.find("record")));
        CAPTURE(parsed.error);
        if (const yaml::Node* expect = test.find("expect")) {
            // Full normalized record (mail-auth cases).
            REQUIRE(scalar_of(expect->find("valid")) == "true");
            REQUIRE(parsed.ok);
            const DmarcRecord& record = parsed.record;
            CHECK(dmarc_policy_name(record.policy) == scalar_of(expect->find("p")));
            CHECK(dmarc_policy_name(record.subdomain_policy) == scalar_of(expect->find("sp")));
            CHECK(dmarc_policy_name(record.nonexistent_policy) == scalar_of(expect->find("np")));
            CHECK(alignment_letter(record.dkim_alignment) == scalar_of(expect->find("adkim")));
            CHECK(alignment_letter(record.spf_alignment) == scalar_of(expect->find("aspf")));
            CHECK(record.failure_options == scalar_of(expect->find("fo")));
            CHECK(psd_letter(record.psd) == scalar_of(expect->find("psd")));
            CHECK((record.testing ? "true" : "false") == scalar_of(expect->find("t")));
            CHECK(record.aggregate_report_uris == list_of(expect->find("rua")));
            CHECK(record.failure_report_uris == list_of(expect->find("ruf")));
        } else {
            // OpenDMARC cases: the "rfc" reading is the target.
            const std::string rfc = scalar_of(test.find("rfc"));
            REQUIRE(!rfc.empty());
            const bool valid = rfc.starts_with("valid");
            CHECK(parsed.ok == valid);
            // "valid, p=<policy>" also names the policy.
            if (valid && rfc.starts_with("valid, p=")) {
                std::string policy = rfc.substr(9);
                policy = policy.substr(0, policy.find_first_not_of("abcdefghijklmnopqrstuvwxyz"));
                CHECK(dmarc_policy_name(parsed.record.policy) == policy);
            }
        }
        ++checked;
    }
    std::printf("dmarc record_parse: %zu cases\n", checked);
    CHECK(checked == 25);
}

TEST_CASE("dmarc: evaluation cases (RFC 9989 tree walk)") {
    if (!std::filesystem::exists(kCases)) {
        std::printf("SKIPPED: %s not present\n", kCases.c_str());
        return;
    }
    const yaml::Node* cases = load_cases().find("evaluation");
    REQUIRE(cases != nullptr);
    std::size_t checked = 0;
    for (const yaml::Node& test : cases->items) {
        const std::string id = scalar_of(test.find("id"));
        CAPTURE(id);
        ZoneResolver zone;
        load_zone(zone, test.find("zone"));

        DmarcAuthResults auth;
        if (const yaml::Node* spf = test.find("spf")) auth.spf = identifier_of(*spf);
        if (const yaml::Node* dkim = test.find("dkim")) {
            for (const yaml::Node& signature : dkim->items)
                auth.dkim.push_back(DmarcIdentifier{scalar_of(signature.find("d")),
                                                    scalar_of(signature.find("result")) == "pass"});
        }
        DmarcVerifier verifier(zone);
        verifier.on_from_header(" " + scalar_of(test.find("from")));
        const DmarcOutcome outcome = verifier.evaluate(auth, soon());
        CAPTURE(outcome.reason);

        const yaml::Node* expect = test.find("expect");
        REQUIRE(expect != nullptr);
        for (const auto& [key, value] : expect->fields) {
            CAPTURE(key);
            if (key == "dkim_alignment") {
                CHECK(dmarc_alignment_name(outcome.dkim_alignment) == value.scalar);
            } else if (key == "spf_alignment") {
                CHECK(dmarc_alignment_name(outcome.spf_alignment) == value.scalar);
            } else if (key == "dmarc") {
                CHECK(dmarc_status_name(outcome.status) == value.scalar);
            } else if (key == "policy") {
                CHECK(dmarc_policy_name(outcome.policy) == value.scalar);
            } else if (key == "policy_domain") {
                CHECK(outcome.policy_domain == value.scalar);
            } else if (key == "tag_used") {
                CHECK(dmarc_policy_tag_name(outcome.policy_tag) == value.scalar);
            } else if (key == "organizational_domain") {
                CHECK(outcome.organizational_domain == value.scalar);
            } else if (key == "policy_record") {
                REQUIRE(value.scalar == "absent");
                CHECK_FALSE(outcome.record.has_value());
            } else {
                FAIL("unknown expectation key ", key);
            }
        }
        if (id == "ma-treewalk-query-cap") {
            // At most 8 TXT queries, and the 8-label name between the author domain and the
            // 7-label start of the walk is skipped.
            std::set<std::string> txt_names;
            for (const auto& query : zone.queries()) {
                if (query.type == RecordType::TXT) txt_names.insert(query.name);
            }
            CHECK(txt_names.size() <= 8);
            CHECK(txt_names.count("_dmarc.example.com") == 1);
            CHECK(txt_names.count("_dmarc.f.g.h.i.j.mail.example.com") == 0);
            CHECK(txt_names.count("_dmarc.g.h.i.j.mail.example.com") == 1);
        }
        ++checked;
    }
    std::printf("dmarc evaluation: %zu cases\n", checked);
    CHECK(checked == 12);
}

TEST_CASE("dmarc: alignment_fn cases (PSL mode for relaxed, both modes for strict)") {
    if (!std::filesystem::exists(kCases)) {
        std::printf("SKIPPED: %s not present\n", kCases.c_str());
        return;
    }
    const yaml::Node* cases = load_cases().find("alignment_fn");
    REQUIRE(cases != nullptr);
    ZoneResolver empty_zone;
    std::size_t checked = 0;
    for (const yaml::Node& test : cases->items) {
        CAPTURE(scalar_of(test.find("id")));
        const bool strict = scalar_of(test.find("mode")) == "strict";
        const bool expected = scalar_of(test.find("aligned")) == "true";
        const auto mode = strict ? DmarcAlignmentMode::Strict : DmarcAlignmentMode::Relaxed;
        DmarcOptions psl_mode;
        psl_mode.mode = DmarcMode::PublicSuffixList;
        DmarcVerifier psl_verifier(empty_zone, psl_mode);
        CHECK(psl_verifier.aligned(scalar_of(test.find("a")), scalar_of(test.find("b")), mode,
                                   soon()) == std::optional<bool>(expected));
        if (strict) {
            DmarcVerifier walk_verifier(empty_zone);
            CHECK(walk_verifier.aligned(scalar_of(test.find("a")), scalar_of(test.find("b")), mode,
                                        soon()) == std::optional<bool>(expected));
        }
        ++checked;
    }
    std::printf("dmarc alignment_fn: %zu cases\n", checked);
    CHECK(checked == 10);
}

TEST_CASE("dmarc: From header parsing") {
    auto domains = [](std::string_view value) { return parse_from_addresses(value).domains; };
    using List = std::vector<std::string>;
    CHECK(domains(" Joe <joe@Example.ORG>") == List{"example.org"});
    CHECK(domains(" joe@example.org (Joe Sixpack)") == List{"example.org"});
    CHECK(domains(" \"Doe, John\" <john@example.org>, jane@example.net") ==
          List{"example.org", "example.net"});
    CHECK(domains(" \"joe@evil.example\" <joe@example.org>") == List{"example.org"});
    CHECK(domains(" friends: a@x.example, b@y.example;") == List{"x.example", "y.example"});
    CHECK(domains(" <@route.example:joe@example.org.>") == List{"example.org"});
    CHECK(domains(" Joe\r\n <joe@example.org>") == List{"example.org"});
    CHECK(domains(" \"a@b\"@example.org") == List{"example.org"});

    CHECK_FALSE(parse_from_addresses("").ok);
    CHECK_FALSE(parse_from_addresses(" undisclosed-recipients:;").ok);
    CHECK_FALSE(parse_from_addresses(" Joe <joe>").ok);
    CHECK_FALSE(parse_from_addresses(" <joe@[192.0.2.1]>").ok);
    CHECK_FALSE(parse_from_addresses(" Joe <joe@example.org").ok);
    CHECK_FALSE(parse_from_addresses(" joe@example.org (unterminated").ok);
    CHECK_FALSE(parse_from_addresses(" <>").ok);
}

TEST_CASE("dmarc: From problems are permerror") {
    ZoneResolver zone;
    zone.add_txt("_dmarc.example.org", "v=DMARC1; p=reject");
    DmarcAuthResults auth;

    DmarcVerifier two_fields(zone);
    two_fields.on_from_header(" a@example.org");
    two_fields.on_from_header(" b@example.org");
    CHECK(two_fields.evaluate(auth, soon()).status == DmarcStatus::PermError);

    DmarcVerifier two_domains(zone);
    two_domains.on_from_header(" a@example.org, b@example.net");
    const DmarcOutcome mixed = two_domains.evaluate(auth, soon());
    CHECK(mixed.status == DmarcStatus::PermError);
    CHECK(mixed.reason.find("more than one domain") != std::string::npos);

    DmarcVerifier same_domain(zone);
    same_domain.on_from_header(" a@example.org, B <b@EXAMPLE.org>");
    CHECK(same_domain.evaluate(auth, soon()).status == DmarcStatus::Fail);

    DmarcVerifier none(zone);
    CHECK(none.evaluate(auth, soon()).status == DmarcStatus::PermError);

    DmarcVerifier direct(zone);
    direct.set_author_domain("Example.ORG.");
    const DmarcOutcome outcome = direct.evaluate(auth, soon());
    CHECK(outcome.author_domain == "example.org");
    CHECK(outcome.status == DmarcStatus::Fail);
    CHECK(outcome.disposition == DmarcPolicy::Reject);
}

TEST_CASE("dmarc: duplicate, split, invalid records and DNS failures") {
    DmarcAuthResults auth;
    auth.spf = {"example.org", true};

    ZoneResolver zone;
    // Two records at the author domain are ignored; the walk continues to example.org.
    zone.add_txt("_dmarc.mail.example.org", "v=DMARC1; p=none");
    zone.add_txt("_dmarc.mail.example.org", "v=DMARC1; p=reject");
    // A record split into several character-strings, next to an unrelated TXT.
    zone.add_txt_strings("_dmarc.example.org", {"v=DMARC1; p=quar", "antine; sp=reject"});
    zone.add_txt("_dmarc.example.org", "google-site-verification=abc");
    {
        DmarcVerifier verifier(zone);
        verifier.on_from_header(" x@mail.example.org");
        const DmarcOutcome outcome = verifier.evaluate(auth, soon());
        CHECK(outcome.policy_domain == "example.org");
        CHECK(outcome.policy_tag == DmarcPolicyTag::Sp);
        CHECK(outcome.policy == DmarcPolicy::Reject);
        CHECK(outcome.status == DmarcStatus::Pass);  // relaxed: example.org aligns
        CHECK(outcome.spf_alignment == DmarcAlignment::Pass);
        CHECK(outcome.organizational_domain == "example.org");
    }
    // An unparsable record at the author domain is permerror; further up it is skipped.
    zone.add_txt("_dmarc.bad.example.org", "v=DMARC1; p=bogus");
    {
        DmarcVerifier verifier(zone);
        verifier.on_from_header(" x@bad.example.org");
        CHECK(verifier.evaluate(auth, soon()).status == DmarcStatus::PermError);
    }
    zone.add_txt("_dmarc.org", "v=DMARC1; p=whatever");
    {
        DmarcVerifier verifier(zone);
        verifier.on_from_header(" x@example.org");
        const DmarcOutcome outcome = verifier.evaluate(auth, soon());
        CHECK(outcome.policy_domain == "example.org");
        CHECK(outcome.status == DmarcStatus::Pass);
    }
    // A temporary DNS failure during discovery is temperror.
    zone.set_failure("_dmarc.broken.example", relaytrust::dns::Status::ServFail);
    {
        DmarcVerifier verifier(zone);
        verifier.on_from_header(" x@broken.example");
        CHECK(verifier.evaluate(auth, soon()).status == DmarcStatus::TempError);
    }
    // A resolver that never answers: temperror at the deadline, not a hang.
    class SilentResolver final : public relaytrust::dns::Resolver {
      public:
        void lookup(std::string_view, RecordType, Callback callback) override {
            parked.push_back(std::move(callback));
        }
        std::vector<Callback> parked;
    } silent;
    {
        DmarcVerifier verifier(silent);
        verifier.on_from_header(" x@example.org");
        CHECK_FALSE(silent.parked.empty());  // discovery started at the From header
        const auto started = std::chrono::steady_clock::now();
        const DmarcOutcome outcome =
            verifier.evaluate(auth, started + std::chrono::milliseconds(50));
        CHECK(outcome.status == DmarcStatus::TempError);
        CHECK(std::chrono::steady_clock::now() - started < std::chrono::seconds(2));
    }
}

TEST_CASE("dmarc: sp and np choice, existence check") {
    ZoneResolver zone;
    zone.add_txt("_dmarc.example.org", "v=DMARC1; p=none; sp=quarantine; np=reject");
    zone.add_mx("mx-only.example.org", 10, "mail.example.org");
    zone.add_name("empty.example.org");  // NODATA for everything: does not exist for DMARC
    DmarcAuthResults auth;
    auto evaluate = [&](std::string from) {
        DmarcVerifier verifier(zone);
        verifier.on_from_header(" x@" + from);
        return verifier.evaluate(auth, soon());
    };
    CHECK(evaluate("example.org").policy_tag == DmarcPolicyTag::P);
    CHECK(evaluate("mx-only.example.org").policy_tag == DmarcPolicyTag::Sp);
    const DmarcOutcome ghost = evaluate("empty.example.org");
    CHECK(ghost.policy_tag == DmarcPolicyTag::Np);
    CHECK(ghost.disposition == DmarcPolicy::Reject);

    zone.set_failure("temp.example.org", relaytrust::dns::Status::ServFail);
    CHECK(evaluate("temp.example.org").policy_tag == DmarcPolicyTag::Sp);  // no np on a guess

    // Without np=, a missing subdomain gets sp and no existence queries are made.
    zone.remove_name("_dmarc.example.org");
    zone.add_txt("_dmarc.example.org", "v=DMARC1; p=none; sp=quarantine");
    zone.reset_queries();
    CHECK(evaluate("ghost.example.org").policy_tag == DmarcPolicyTag::Sp);
    for (const auto& query : zone.queries())
        CHECK(query.type == RecordType::TXT);
}

TEST_CASE("dmarc: PSL mode discovery, pct= sampling, t=y") {
    ZoneResolver zone;
    zone.add_txt("_dmarc.example.co.uk", "v=DMARC1; p=reject; pct=0; t=y");
    DmarcAuthResults auth;
    auth.dkim = {{"other.example", true}, {"example.co.uk", false}};

    DmarcOptions legacy;
    legacy.mode = DmarcMode::PublicSuffixList;
    legacy.in_sample = [](unsigned percent) { return percent >= 50; };
    {
        DmarcVerifier verifier(zone, legacy);
        verifier.on_from_header(" x@a.b.example.co.uk");
        const DmarcOutcome outcome = verifier.evaluate(auth, soon());
        CHECK(outcome.policy_domain == "example.co.uk");
        CHECK(outcome.organizational_domain == "example.co.uk");
        CHECK(outcome.policy_tag == DmarcPolicyTag::Sp);
        CHECK(outcome.status == DmarcStatus::Fail);
        CHECK(outcome.dkim_alignment == DmarcAlignment::Fail);
        CHECK(outcome.policy == DmarcPolicy::Reject);
        CHECK(outcome.disposition == DmarcPolicy::Quarantine);  // pct=0: not sampled
        CHECK(outcome.policy_lowered);
    }
    // Only the author domain and the PSL organizational domain are asked.
    for (const auto& query : zone.queries()) {
        if (query.type != RecordType::TXT) continue;
        CHECK((query.name == "_dmarc.a.b.example.co.uk" || query.name == "_dmarc.example.co.uk"));
    }
    {
        // Tree walk mode: the same record, t=y lowers the policy; pct is not an RFC 9989 tag.
        DmarcVerifier verifier(zone);
        verifier.on_from_header(" x@a.b.example.co.uk");
        const DmarcOutcome outcome = verifier.evaluate(auth, soon());
        CHECK(outcome.policy_domain == "example.co.uk");
        CHECK(outcome.disposition == DmarcPolicy::Quarantine);
        CHECK(outcome.policy_lowered);
    }
    zone.remove_name("_dmarc.example.co.uk");
    zone.add_txt("_dmarc.example.co.uk", "v=DMARC1; p=reject; pct=50");
    {
        DmarcVerifier verifier(zone, legacy);
        verifier.on_from_header(" x@example.co.uk");
        const DmarcOutcome outcome = verifier.evaluate(auth, soon());
        CHECK(outcome.policy_tag == DmarcPolicyTag::P);
        CHECK(outcome.disposition == DmarcPolicy::Reject);  // in the sample
        CHECK_FALSE(outcome.policy_lowered);
    }
    // Aligned DKIM passes; a pass by rsa-sha1 only counts when allowed.
    std::vector<DkimResult> dkim(1);
    dkim[0].status = DkimStatus::Pass;
    dkim[0].domain = "mail.example.co.uk";
    dkim[0].weak_sha1 = true;
    auth.dkim = dmarc_dkim_identifiers(dkim);
    {
        DmarcVerifier verifier(zone, legacy);
        verifier.on_from_header(" x@example.co.uk");
        CHECK(verifier.evaluate(auth, soon()).status == DmarcStatus::Fail);
    }
    auth.dkim = dmarc_dkim_identifiers(dkim, /*accept_sha1=*/true);
    {
        DmarcVerifier verifier(zone, legacy);
        verifier.on_from_header(" x@example.co.uk");
        const DmarcOutcome outcome = verifier.evaluate(auth, soon());
        CHECK(outcome.status == DmarcStatus::Pass);
        CHECK(outcome.aligned_dkim_domain == "mail.example.co.uk");
        CHECK(outcome.disposition == DmarcPolicy::None);
    }
}

TEST_CASE("dmarc: tree walk names") {
    using Names = std::vector<std::string>;
    CHECK(DmarcVerifier::tree_walk_names("example.com") == Names{"example.com", "com"});
    CHECK(DmarcVerifier::tree_walk_names("com") == Names{"com"});
    CHECK(DmarcVerifier::tree_walk_names("a.b.c.d.e.f.g.h.i") ==
          Names{"a.b.c.d.e.f.g.h.i", "c.d.e.f.g.h.i", "d.e.f.g.h.i", "e.f.g.h.i", "f.g.h.i",
                "g.h.i", "h.i", "i"});
    CHECK(DmarcVerifier::tree_walk_names("b.c.d.e.f.g.h.i").size() == 8);
}
