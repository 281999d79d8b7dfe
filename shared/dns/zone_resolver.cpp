#include "dns/zone_resolver.h"

#include <algorithm>

#include "dns/names.h"

namespace relaytrust::dns {

namespace {

constexpr int kMaxCnameChain = 8;

Answer failed(Status status, std::string error) {
    Answer answer;
    answer.status = status;
    answer.error = std::move(error);
    return answer;
}

bool starts_with_ignoring_case(std::string_view text, std::string_view prefix) {
    return text.size() >= prefix.size() && same_name(text.substr(0, prefix.size()), prefix);
}

}  // namespace

ZoneResolver::ZoneResolver(Delivery delivery) : delivery_(delivery) {
    if (delivery_ == Delivery::WorkerThread)
        delivery_thread_ = std::thread([this] { delivery_loop(); });
}

ZoneResolver::~ZoneResolver() {
    if (delivery_thread_.joinable()) {
        {
            std::lock_guard lock(delivery_mutex_);
            stopping_ = true;
        }
        delivery_wakeup_.notify_all();
        delivery_thread_.join();
    }
}

void ZoneResolver::add_record(std::string_view name, Record record) {
    std::unique_lock lock(zone_mutex_);
    names_[normalize_name(name)].push_back(std::move(record));
}

void ZoneResolver::add_txt(std::string_view name, std::string_view text) {
    add_record(name, Record{RecordType::TXT, false, std::string(text), 0});
}

void ZoneResolver::add_txt_strings(std::string_view name, const std::vector<std::string>& strings) {
    std::string joined;
    for (const std::string& piece : strings)
        joined += piece;
    add_txt(name, joined);
}

bool ZoneResolver::add_address(std::string_view name, std::string_view address) {
    const auto parsed = net::IpAddress::parse(address);
    if (!parsed) return false;
    // "::ffff:1.2.3.4" parses as IPv4 (is_v4); it was published as AAAA, so keep it one.
    const bool written_as_v6 = address.find(':') != std::string_view::npos;
    if (parsed->is_v4 && !written_as_v6) {
        add_record(name, Record{RecordType::A, false, parsed->to_string(), 0});
    } else {
        std::string text = parsed->to_string();
        if (parsed->is_v4) text = "::ffff:" + text;
        add_record(name, Record{RecordType::AAAA, false, std::move(text), 0});
    }
    return true;
}

void ZoneResolver::add_mx(std::string_view name, std::uint16_t preference,
                          std::string_view exchange) {
    add_record(name, Record{RecordType::MX, false, normalize_name(exchange), preference});
}

void ZoneResolver::add_ptr(std::string_view name, std::string_view target) {
    add_record(name, Record{RecordType::PTR, false, normalize_name(target), 0});
}

void ZoneResolver::add_ptr_for(const net::IpAddress& address, std::string_view target) {
    add_ptr(reverse_lookup_name(address), target);
}

void ZoneResolver::add_cname(std::string_view name, std::string_view target) {
    add_record(name, Record{RecordType::CNAME, false, normalize_name(target), 0});
}

void ZoneResolver::add_name(std::string_view name) {
    std::unique_lock lock(zone_mutex_);
    names_[normalize_name(name)];
}

void ZoneResolver::add_timeout_marker(std::string_view name) {
    add_record(name, Record{RecordType::TXT, true, {}, 0});
}

void ZoneResolver::remove(std::string_view name, RecordType type) {
    std::unique_lock lock(zone_mutex_);
    const auto found = names_.find(normalize_name(name));
    if (found == names_.end()) return;
    std::erase_if(found->second, [type](const Record& record) {
        return !record.timeout_marker && record.type == type;
    });
}

void ZoneResolver::remove_name(std::string_view name) {
    std::unique_lock lock(zone_mutex_);
    names_.erase(normalize_name(name));
}

void ZoneResolver::clear() {
    std::unique_lock lock(zone_mutex_);
    names_.clear();
    failures_.clear();
    failing_prefixes_.clear();
}

void ZoneResolver::set_failure(std::string_view name, Status status,
                               std::optional<RecordType> type) {
    std::unique_lock lock(zone_mutex_);
    auto& list = failures_[normalize_name(name)];
    std::erase_if(list, [&](const Failure& failure) { return failure.type == type; });
    if (status != Status::Ok) list.push_back(Failure{status, type});
}

void ZoneResolver::fail_names_with_prefix(std::string_view prefix, Status status) {
    std::unique_lock lock(zone_mutex_);
    failing_prefixes_.emplace_back(normalize_name(prefix) + (prefix.ends_with('.') ? "." : ""),
                                   status);
}

void ZoneResolver::set_latency(std::chrono::milliseconds latency) {
    std::lock_guard lock(delivery_mutex_);
    latency_ = latency;
}

Answer ZoneResolver::answer_locked(const std::string& name, RecordType type,
                                   int cname_depth) const {
    if (const auto failure = failures_.find(name); failure != failures_.end()) {
        for (const Failure& entry : failure->second) {
            if (!entry.type || *entry.type == type)
                return failed(entry.status, "simulated " + std::string(status_name(entry.status)));
        }
    }
    const auto found = names_.find(name);
    if (found == names_.end()) {
        for (const auto& [prefix, status] : failing_prefixes_) {
            if (starts_with_ignoring_case(name, prefix))
                return failed(status, "simulated " + std::string(status_name(status)));
        }
        Answer answer;
        answer.status = Status::NxDomain;
        return answer;
    }

    Answer answer;
    answer.status = Status::Ok;
    bool have_type = false;
    const std::string* cname_target = nullptr;
    for (const Record& record : found->second) {
        if (record.timeout_marker) {
            if (!have_type) return failed(Status::Timeout, "simulated timeout");
            break;  // the suite's driver stops reading at the marker
        }
        if (record.type == RecordType::CNAME && type != RecordType::CNAME) {
            cname_target = &record.value;
            continue;
        }
        if (record.type != type) continue;
        have_type = true;
        switch (type) {
            case RecordType::TXT:
                answer.texts.push_back(record.value);
                break;
            case RecordType::A:
            case RecordType::AAAA:
                answer.addresses.push_back(record.value);
                break;
            case RecordType::MX:
                answer.mx.push_back(MxRecord{record.preference, record.value});
                break;
            case RecordType::PTR:
            case RecordType::CNAME:
            case RecordType::NS:
                answer.names.push_back(record.value);
                break;
        }
    }
    if (!have_type && cname_target) {
        if (cname_depth >= kMaxCnameChain)
            return failed(Status::ServFail, "CNAME chain too long or looping at " + name);
        return answer_locked(*cname_target, type, cname_depth + 1);
    }
    return answer;
}

Answer ZoneResolver::answer(std::string_view name, RecordType type) const {
    if (!is_queryable_name(name)) return failed(Status::Error, "not a valid DNS name");
    std::string key = normalize_name(name);
    {
        std::lock_guard lock(queries_mutex_);
        ++query_count_;
        if (record_queries_) queries_.push_back(Query{key, type});
    }
    std::shared_lock lock(zone_mutex_);
    return answer_locked(key, type, 0);
}

void ZoneResolver::lookup(std::string_view name, RecordType type, Callback callback) {
    Answer result = answer(name, type);
    if (delivery_ == Delivery::Inline) {
        callback(std::move(result));
        return;
    }
    {
        std::lock_guard lock(delivery_mutex_);
        delivery_queue_.emplace(std::chrono::steady_clock::now() + latency_,
                                Pending{std::move(callback), std::move(result)});
    }
    delivery_wakeup_.notify_all();
}

void ZoneResolver::delivery_loop() {
    std::unique_lock lock(delivery_mutex_);
    while (true) {
        if (delivery_queue_.empty()) {
            // Pending answers are still delivered on shutdown, so no callback is ever lost.
            if (stopping_) return;
            delivery_wakeup_.wait(lock);
            continue;
        }
        const auto due = delivery_queue_.begin()->first;
        if (!stopping_ && std::chrono::steady_clock::now() < due) {
            delivery_wakeup_.wait_until(lock, due);
            continue;
        }
        Pending pending = std::move(delivery_queue_.begin()->second);
        delivery_queue_.erase(delivery_queue_.begin());
        lock.unlock();
        pending.callback(std::move(pending.answer));
        lock.lock();
    }
}

std::vector<ZoneResolver::Query> ZoneResolver::queries() const {
    std::lock_guard lock(queries_mutex_);
    return queries_;
}

std::size_t ZoneResolver::query_count() const {
    std::lock_guard lock(queries_mutex_);
    return query_count_;
}

void ZoneResolver::reset_queries() {
    std::lock_guard lock(queries_mutex_);
    queries_.clear();
    query_count_ = 0;
}

void ZoneResolver::set_record_queries(bool record) {
    std::lock_guard lock(queries_mutex_);
    record_queries_ = record;
    if (!record) queries_.clear();
}

std::string ZoneResolver::load_openspf_zonedata(const yaml::Node& zonedata) {
    if (zonedata.is_null()) return "";
    if (!zonedata.is_mapping()) return "zonedata is not a mapping";
    auto scalar_of = [](const yaml::Node& node) -> std::optional<std::string> {
        if (node.is_scalar()) return node.scalar;
        return std::nullopt;
    };
    for (const auto& [owner, entries] : zonedata.fields) {
        const std::string where = "zonedata '" + owner + "': ";
        if (!entries.is_sequence()) return where + "expected a list of records";
        // Pass 1: does the name have its own TXT entry (then SPF entries are not copied)?
        bool has_txt = false;
        for (const yaml::Node& entry : entries.items) {
            if (entry.is_mapping() && entry.find("TXT")) has_txt = true;
        }
        add_name(owner);
        std::vector<std::vector<std::string>> copied_spf;
        for (const yaml::Node& entry : entries.items) {
            if (entry.is_scalar() && entry.scalar == "TIMEOUT") {
                add_timeout_marker(owner);
                continue;
            }
            if (!entry.is_mapping() || entry.fields.size() != 1)
                return where + "expected 'TYPE: value' or TIMEOUT (line " +
                       std::to_string(entry.line) + ")";
            const auto& [type, value] = entry.fields.front();
            if (value.is_scalar() && value.scalar == "NONE" && !value.quoted) continue;
            if (type == "TXT" || type == "SPF") {
                std::vector<std::string> strings;
                if (value.is_sequence()) {
                    for (const yaml::Node& piece : value.items) {
                        const auto text = scalar_of(piece);
                        if (!text) return where + "TXT strings must be scalars";
                        strings.push_back(*text);
                    }
                } else if (const auto text = scalar_of(value)) {
                    strings.push_back(*text);
                } else {
                    return where + type + " needs a string or a list of strings";
                }
                if (type == "TXT") {
                    add_txt_strings(owner, strings);
                } else if (!has_txt) {
                    // RFC 7208 only queries TXT; type-99 SPF records are what the driver
                    // copies into TXT for names without TXT entries.
                    copied_spf.push_back(std::move(strings));
                }
            } else if (type == "A" || type == "AAAA") {
                const auto text = scalar_of(value);
                if (!text || !add_address(owner, *text))
                    return where + "bad " + type + " address (line " + std::to_string(value.line) +
                           ")";
            } else if (type == "MX") {
                if (!value.is_sequence() || value.items.size() != 2 ||
                    !value.items[0].is_scalar() || !value.items[1].is_scalar())
                    return where + "MX needs [preference, exchange]";
                const std::string& preference_text = value.items[0].scalar;
                if (preference_text.empty() || preference_text.size() > 5 ||
                    !std::all_of(preference_text.begin(), preference_text.end(),
                                 [](char c) { return c >= '0' && c <= '9'; }) ||
                    std::stoul(preference_text) > 65535)
                    return where + "bad MX preference '" + preference_text + "'";
                add_mx(owner, std::uint16_t(std::stoul(preference_text)), value.items[1].scalar);
            } else if (type == "PTR" || type == "CNAME") {
                const auto text = scalar_of(value);
                if (!text) return where + type + " needs a name";
                if (type == "PTR") {
                    add_ptr(owner, *text);
                } else {
                    add_cname(owner, *text);
                }
            } else {
                return where + "unknown record type '" + type + "'";
            }
        }
        for (const auto& strings : copied_spf)
            add_txt_strings(owner, strings);
    }
    // The driver turns lookups of unknown names under "error." into temporary errors.
    bool have_error_prefix = false;
    {
        std::shared_lock lock(zone_mutex_);
        for (const auto& entry : failing_prefixes_)
            have_error_prefix = have_error_prefix || entry.first == "error.";
    }
    if (!have_error_prefix) fail_names_with_prefix("error.", Status::Timeout);
    return "";
}

}  // namespace relaytrust::dns
