#include "auth/spf_suite.h"

#include "dns/names.h"
#include "dns/zone_yaml.h"
#include "net/network_set.h"

namespace relaytrust::auth {

std::size_t OpenSpfSuite::case_count() const {
    std::size_t count = 0;
    for (const OpenSpfScenario& scenario : scenarios)
        count += scenario.cases.size();
    return count;
}

OpenSpfSuite load_openspf_suite(std::string_view yaml_text) {
    OpenSpfSuite suite;
    const dns::yaml::Stream stream = dns::yaml::parse_stream(yaml_text);
    if (!stream.ok()) {
        suite.error = stream.error;
        return suite;
    }
    auto text_of = [](const dns::yaml::Node* node) -> std::string {
        return node && node->is_scalar() ? node->scalar : std::string();
    };
    for (const dns::yaml::Node& document : stream.documents) {
        if (!document.is_mapping()) continue;
        OpenSpfScenario scenario;
        scenario.description = text_of(document.find("description"));
        scenario.zone = std::make_shared<dns::ZoneResolver>();
        if (const dns::yaml::Node* zonedata = document.find("zonedata")) {
            if (std::string error = scenario.zone->load_openspf_zonedata(*zonedata);
                !error.empty()) {
                suite.error = "scenario '" + scenario.description + "': " + error;
                return suite;
            }
        }
        const dns::yaml::Node* tests = document.find("tests");
        if (!tests || !tests->is_mapping()) {
            suite.error = "scenario '" + scenario.description + "' has no tests mapping";
            return suite;
        }
        for (const auto& [id, fields] : tests->fields) {
            SpfSuiteCase test_case;
            test_case.id = id;
            test_case.scenario = scenario.description;
            test_case.line = fields.line;
            test_case.helo = text_of(fields.find("helo"));
            test_case.mail_from = text_of(fields.find("mailfrom"));
            test_case.host = text_of(fields.find("host"));
            if (const dns::yaml::Node* explanation = fields.find("explanation");
                explanation && explanation->is_scalar())
                test_case.explanation = explanation->scalar;
            const dns::yaml::Node* result = fields.find("result");
            std::vector<std::string> names;
            if (result && result->is_scalar()) {
                names.push_back(result->scalar);
            } else if (result && result->is_sequence()) {
                for (const dns::yaml::Node& item : result->items)
                    names.push_back(item.scalar);
            }
            for (const std::string& name : names) {
                const auto code = parse_spf_result_name(name);
                if (!code) {
                    suite.error = "test '" + id + "': unknown result '" + name + "'";
                    return suite;
                }
                test_case.expected.push_back(*code);
            }
            if (test_case.expected.empty()) {
                suite.error = "test '" + id + "' has no result";
                return suite;
            }
            scenario.cases.push_back(std::move(test_case));
        }
        suite.scenarios.push_back(std::move(scenario));
    }
    return suite;
}

std::optional<SpfRequest> openspf_request(const SpfSuiteCase& test_case) {
    const auto ip = net::IpAddress::parse(test_case.host);
    if (!ip) return std::nullopt;
    SpfRequest request;
    request.client_ip = *ip;
    request.helo = test_case.helo;
    request.mail_from = test_case.mail_from;
    request.identity = SpfIdentity::MailFrom;
    return request;
}

namespace {

std::string_view trim(std::string_view text) {
    while (!text.empty() && (text.front() == ' ' || text.front() == '\t'))
        text.remove_prefix(1);
    while (!text.empty() && (text.back() == ' ' || text.back() == '\t' || text.back() == '\r'))
        text.remove_suffix(1);
    return text;
}

std::vector<std::string> comma_list(std::string_view text) {
    std::vector<std::string> items;
    while (true) {
        const std::size_t comma = text.find(',');
        items.emplace_back(trim(text.substr(0, comma)));
        if (comma == std::string_view::npos) break;
        text.remove_prefix(comma + 1);
    }
    return items;
}

bool starts_with_key(std::string_view line, std::string_view key, std::string_view& value) {
    if (!line.starts_with(key)) return false;
    value = trim(line.substr(key.size()));
    return true;
}

}  // namespace

std::string run_mail_auth_file(std::string_view text, dns::ZoneResolver& zone,
                               const std::function<void(const SpfSuiteCase&)>& check) {
    zone.fail_names_with_prefix("_dns_error.", dns::Status::ServFail);
    std::string scenario;
    std::string helo;
    std::string mail_from;
    std::string ip = "127.0.0.1";
    int expectations_in_scenario = 0;
    int line_number = 0;
    while (!text.empty()) {
        const std::size_t end = text.find('\n');
        const std::string_view raw = text.substr(0, end);
        text.remove_prefix(end == std::string_view::npos ? text.size() : end + 1);
        ++line_number;
        std::string_view line = trim(raw);
        const auto where = [&] { return "line " + std::to_string(line_number) + ": "; };
        if (line == "---") {  // a new scenario: the identity fields reset, the records stay
            helo.clear();
            mail_from.clear();
            ip = "127.0.0.1";
            expectations_in_scenario = 0;
            continue;
        }
        if (line.starts_with('-')) line = trim(line.substr(1));
        if (line.empty() || line.starts_with('#') || line == "records:" || line == "tests:")
            continue;
        std::string_view value;
        // "<type>: <owner> <data>" record lines replace that owner's records of the type.
        auto owner_and_data = [&](std::string_view rest, std::string_view& owner,
                                  std::string_view& data) {
            const std::size_t space = rest.find(' ');
            if (space == std::string_view::npos) return false;
            owner = trim(rest.substr(0, space));
            data = trim(rest.substr(space + 1));
            return true;
        };
        std::string_view owner;
        std::string_view data;
        if (starts_with_key(line, "name:", value)) {
            scenario = std::string(value);
            expectations_in_scenario = 0;
        } else if (starts_with_key(line, "spf:", value) || starts_with_key(line, "exp:", value)) {
            if (!owner_and_data(value, owner, data)) return where() + "expected 'owner record'";
            zone.remove(owner, dns::RecordType::TXT);
            zone.add_txt(owner, data);
        } else if (starts_with_key(line, "aaaa:", value) || starts_with_key(line, "a:", value)) {
            if (!owner_and_data(value, owner, data)) return where() + "expected 'owner addresses'";
            const bool v6 = line.starts_with("aaaa:");
            zone.remove(owner, v6 ? dns::RecordType::AAAA : dns::RecordType::A);
            for (const std::string& address : comma_list(data)) {
                if (!zone.add_address(owner, address)) return where() + "bad address " + address;
            }
        } else if (starts_with_key(line, "ptr:", value)) {
            if (!owner_and_data(value, owner, data)) return where() + "expected 'ip names'";
            const auto address = net::IpAddress::parse(owner);
            if (!address) return where() + "bad address " + std::string(owner);
            const std::string reverse = dns::reverse_lookup_name(*address);
            zone.remove(reverse, dns::RecordType::PTR);
            for (const std::string& name : comma_list(data))
                zone.add_ptr(reverse, name);
        } else if (starts_with_key(line, "mx:", value)) {
            // The file lists MX *addresses*; like mail-auth's driver, invent one exchange name
            // per address ("mx.<ip>.<position>") with preference position + 1.
            if (!owner_and_data(value, owner, data)) return where() + "expected 'owner addresses'";
            zone.remove(owner, dns::RecordType::MX);
            const std::vector<std::string> addresses = comma_list(data);
            for (std::size_t position = 0; position < addresses.size(); ++position) {
                const auto address = net::IpAddress::parse(addresses[position]);
                if (!address) return where() + "bad address " + addresses[position];
                const std::string exchange =
                    "mx." + address->to_string() + "." + std::to_string(position);
                zone.remove(exchange, dns::RecordType::A);
                zone.remove(exchange, dns::RecordType::AAAA);
                zone.add_address(exchange, addresses[position]);
                zone.add_mx(owner, std::uint16_t(position + 1), exchange);
            }
        } else if (starts_with_key(line, "domain:", value)) {
            helo = std::string(value);
        } else if (starts_with_key(line, "sender:", value)) {
            mail_from = std::string(value);
        } else if (starts_with_key(line, "ip:", value)) {
            ip = std::string(value);
        } else if (starts_with_key(line, "expect:", value)) {
            SpfSuiteCase test_case;
            test_case.scenario = scenario;
            test_case.id = scenario + " #" + std::to_string(++expectations_in_scenario);
            test_case.helo = helo;
            test_case.mail_from = mail_from;
            test_case.host = ip;
            test_case.line = line_number;
            const std::size_t space = value.find(' ');
            const auto code = parse_spf_result_name(value.substr(0, space));
            if (!code) return where() + "unknown result in '" + std::string(value) + "'";
            test_case.expected.push_back(*code);
            if (space != std::string_view::npos)
                test_case.explanation = std::string(trim(value.substr(space + 1)));
            check(test_case);
        } else {
            return where() + "unrecognised line '" + std::string(line) + "'";
        }
    }
    return "";
}

}  // namespace relaytrust::auth
