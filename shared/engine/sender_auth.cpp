#include "engine/sender_auth.h"

#include <algorithm>

#include "dns/unbound_resolver.h"
#include "headers/authentication_results.h"
#include "headers/received_parser.h"
#include "headers/verdict_header_parser.h"

namespace relaytrust {

using Clock = std::chrono::steady_clock;

namespace {
auth::SpfOptions spf_options(const AuthSettings& settings) {
    auth::SpfOptions o;
    o.time_limit = settings.deadline;
    return o;
}

std::string domain_of(const std::string& address) {
    auto at = address.rfind('@');
    return at == std::string::npos ? "" : address.substr(at + 1);
}
}  // namespace

std::shared_ptr<AuthServices> AuthServices::create(const AuthSettings& settings,
                                                   const std::string& forwarder_override,
                                                   std::string* error, SpfPlacement spf_placement) {
    dns::UnboundOptions options;
    options.forwarder = forwarder_override.empty() ? settings.dns_forwarder : forwarder_override;
    options.timeout = settings.dns_timeout;
    std::shared_ptr<dns::Resolver> resolver = dns::UnboundResolver::create(options, error);
    if (!resolver) return nullptr;
    return std::make_shared<AuthServices>(std::move(resolver), settings, spf_placement);
}

AuthServices::AuthServices(std::shared_ptr<dns::Resolver> resolver, const AuthSettings& settings,
                           SpfPlacement spf_placement)
    : resolver_(resolver),
      // Placed at collection, SPF never uses the pool: one thread keeps it alive for other
      // callers of spf() (none today) without eight idle ones.
      spf_(std::move(resolver), spf_options(settings),
           spf_placement == SpfPlacement::WhenCollected ? 1 : 8),
      spf_placement_(spf_placement) {}

MessageAuthentication::MessageAuthentication(std::shared_ptr<AuthServices> services,
                                             const AuthSettings& settings)
    : services_(std::move(services)), settings_(settings) {}

MessageAuthentication::~MessageAuthentication() {
    // SPF runs on the verifier's pool and owns its inputs; an unfinished future is simply
    // dropped. DKIM/DMARC lookups are cancelled by their destructors.
}

void MessageAuthentication::set_modes(AuthMode spf, AuthMode dkim, AuthMode dmarc,
                                      bool from_trusted_relay, std::string relay_name) {
    if (!services_) spf = dkim = dmarc = AuthMode::Disable;
    outcome_.spf_mode = spf;
    outcome_.dkim_mode = dkim;
    outcome_.dmarc_mode = dmarc;
    from_trusted_relay_ = from_trusted_relay;
    relay_name_ = std::move(relay_name);
    if (dkim != AuthMode::Disable || dmarc != AuthMode::Disable) {
        dkim_ = std::make_unique<auth::DkimVerifier>(services_->resolver());
    }
    if (dmarc != AuthMode::Disable) {
        auth::DmarcOptions o;
        o.mode = settings_.dmarc_public_suffix_list ? auth::DmarcMode::PublicSuffixList
                                                    : auth::DmarcMode::TreeWalk;
        dmarc_ = std::make_unique<auth::DmarcVerifier>(services_->resolver(), o);
    }
}

void MessageAuthentication::start_spf(const std::string& ip, const std::string& helo,
                                      const std::string& mail_from, const std::string& receiver) {
    auto address = net::IpAddress::parse(ip);
    outcome_.origin_ip = ip;
    outcome_.origin_helo = helo;
    if (!address) {
        outcome_.spf_result = "none";
        outcome_.spf_comment = "no usable client address '" + ip + "'";
        return;
    }
    auth::SpfRequest request;
    request.client_ip = *address;
    request.helo = helo;
    request.mail_from = mail_from;
    request.receiver = receiver;
    if (services_->spf_placement() == SpfPlacement::WhenCollected) {
        spf_deferred_ = std::move(request);
    } else {
        spf_pending_ = services_->spf().start_spf(std::move(request));
    }
}

void MessageAuthentication::on_mail(const Session& session, const std::string& receiver) {
    if (outcome_.spf_mode == AuthMode::Disable) return;
    if (outcome_.spf_mode == AuthMode::Origin && from_trusted_relay_) return;  // wait for Received
    start_spf(session.remote_ip, session.helo, session.mail_from, receiver);
    if (outcome_.spf_mode == AuthMode::Origin) {
        outcome_.origin_note =
            session.remote_ip + " is not a trusted relay: evaluated the connecting client";
    }
}

void MessageAuthentication::on_header(const Session& session, const Header& header,
                                      bool own_received, const std::string& receiver) {
    const bool origin_relay = from_trusted_relay_ && (outcome_.spf_mode == AuthMode::Origin ||
                                                      outcome_.dkim_mode == AuthMode::Origin ||
                                                      outcome_.dmarc_mode == AuthMode::Origin);
    if (headers::iequals(header.name, "Received")) {
        if (own_received) return;
        before_relay_hop_ = false;
        ++received_seen_;
        if (outcome_.spf_mode == AuthMode::Origin && from_trusted_relay_ && !origin_found_ &&
            !relay_ar_used_ && received_seen_ == settings_.origin_hops) {
            origin_found_ = true;
            auto parsed = headers::parse_received(header.raw_value);
            if (!parsed.ok || parsed.hop.from_ip.empty()) {
                outcome_.spf_comment =
                    "origin: the relay's Received header names no client address" +
                    (parsed.ok ? std::string() : " (" + parsed.error + ")");
                return;
            }
            start_spf(parsed.hop.from_ip, parsed.hop.from_helo, session.mail_from, receiver);
            outcome_.origin_note = "client " + parsed.hop.from_ip + " seen by relay " + relay_name_;
        }
        return;
    }
    if (origin_relay && before_relay_hop_ && !relay_ar_used_ &&
        headers::iequals(header.name, "Authentication-Results") &&
        !settings_.trusted_authserv_ids.empty()) {
        auto ar = headers::parse_authentication_results(header.raw_value);
        if (ar.ok &&
            std::find(settings_.trusted_authserv_ids.begin(), settings_.trusted_authserv_ids.end(),
                      ar.authserv_id) != settings_.trusted_authserv_ids.end()) {
            use_relay_results(ar);
            return;
        }
    }
    if (relay_ar_used_) return;
    if (dkim_) dkim_->on_header(header.name, header.raw_value);
    if (dmarc_ && headers::iequals(header.name, "From")) dmarc_->on_from_header(header.raw_value);
}

void MessageAuthentication::use_relay_results(const headers::AuthenticationResults& ar) {
    relay_ar_used_ = true;
    spf_pending_.reset();
    spf_deferred_.reset();
    outcome_.source = "relay-ar";
    outcome_.origin_note =
        "results of trusted authserv-id " + ar.authserv_id + ", relay " + relay_name_;
    if (const auto* r = ar.find("spf")) {
        outcome_.spf_result = r->result;
        outcome_.spf_domain = r->property("smtp.mailfrom");
        if (outcome_.spf_domain.empty()) outcome_.spf_domain = r->property("smtp.helo");
        outcome_.spf_domain = outcome_.spf_domain.find('@') == std::string::npos
                                  ? outcome_.spf_domain
                                  : domain_of(outcome_.spf_domain);
    }
    for (const auto& r : ar.results) {
        if (r.method != "dkim") continue;
        if (outcome_.dkim_result == "none" || r.result == "pass") outcome_.dkim_result = r.result;
        if (r.result == "pass") outcome_.dkim_pass_domains.push_back(r.property("header.d"));
    }
    if (const auto* r = ar.find("dmarc")) {
        outcome_.dmarc_result = r->result;
        outcome_.dmarc_from = r->property("header.from");
        // RFC 7489 §11.2 registers policy.dmarc for the disposition applied.
        if (std::string p = r->property("policy.dmarc"); !p.empty()) outcome_.dmarc_policy = p;
    }
}

void MessageAuthentication::on_body(std::string_view chunk) {
    if (dkim_ && !relay_ar_used_) dkim_->on_body(chunk);
}

bool MessageAuthentication::wants_body() const {
    return dkim_ && !relay_ar_used_ && dkim_->wants_body();
}

const AuthOutcome& MessageAuthentication::finish(const Session& session) {
    if (finished_) return outcome_;
    finished_ = true;
    if (relay_ar_used_) return outcome_;
    const auto deadline = Clock::now() + settings_.deadline;
    const bool any = outcome_.spf_mode != AuthMode::Disable ||
                     outcome_.dkim_mode != AuthMode::Disable ||
                     outcome_.dmarc_mode != AuthMode::Disable;
    outcome_.source = any ? "evaluated" : "none";

    std::optional<auth::SpfResult> spf;
    if (spf_deferred_) {
        // Here, within what is left of the deadline (DKIM and DMARC share it).
        auth::SpfOptions options = services_->spf().options();
        options.time_limit = std::min(
            options.time_limit,
            std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()));
        spf = auth::evaluate_spf(services_->resolver(), *spf_deferred_, options);
    } else if (spf_pending_) {
        if (spf_pending_->wait_until(deadline) == std::future_status::ready) {
            spf = spf_pending_->get();
        } else {
            outcome_.spf_result = "temperror";
            outcome_.spf_comment = "no SPF answer within the deadline";
        }
    } else if (outcome_.spf_mode == AuthMode::Origin && from_trusted_relay_ && !origin_found_) {
        outcome_.spf_comment = "origin: fewer Received headers than origin_hops";
    }
    if (spf) {
        outcome_.spf_result = std::string(spf->result_name());
        outcome_.spf_domain = spf->domain;
        outcome_.spf_comment = spf->comment();
    }

    if (dkim_) {
        outcome_.dkim = dkim_->finish(deadline);
        for (const auto& r : outcome_.dkim) {
            if (r.status == auth::DkimStatus::Pass) outcome_.dkim_pass_domains.push_back(r.domain);
        }
        if (!outcome_.dkim_pass_domains.empty()) {
            outcome_.dkim_result = "pass";
        } else if (!outcome_.dkim.empty()) {
            outcome_.dkim_result =
                std::string(auth::dkim_status_name(outcome_.dkim.front().status));
        }
        if (outcome_.dkim_mode == AuthMode::Disable) {
            outcome_.dkim_result = "none";  // evaluated only as DMARC input
        }
    }

    if (dmarc_) {
        auth::DmarcAuthResults in;
        in.spf.domain = spf ? spf->domain : "";
        in.spf.pass = spf && spf->code == auth::SpfResultCode::Pass;
        if (!spf) in.spf.domain = domain_of(session.mail_from);
        in.dkim = auth::dmarc_dkim_identifiers(outcome_.dkim);
        auth::DmarcOutcome d = dmarc_->evaluate(in, deadline);
        outcome_.dmarc_result = std::string(auth::dmarc_status_name(d.status));
        outcome_.dmarc_policy = std::string(auth::dmarc_policy_name(d.disposition));
        outcome_.dmarc_from = d.author_domain;
        outcome_.dmarc_reason = d.reason;
    }
    return outcome_;
}

std::string MessageAuthentication::authentication_results(const std::string& authserv_id) const {
    std::string out = authserv_id;
    auto mode_comment = [&](AuthMode mode) {
        std::string c = std::string(auth_mode_name(mode));
        if (!outcome_.origin_note.empty()) {
            c += ": " + outcome_.origin_note;
        } else if (!outcome_.origin_ip.empty()) {
            c += ": client " + outcome_.origin_ip;
        }
        return " (" + c + ")";
    };
    if (outcome_.spf_mode != AuthMode::Disable) {
        out += "; spf=" + outcome_.spf_result + mode_comment(outcome_.spf_mode);
        if (!outcome_.spf_domain.empty()) out += " smtp.mailfrom=" + outcome_.spf_domain;
        if (!outcome_.origin_helo.empty()) out += " smtp.helo=" + outcome_.origin_helo;
    }
    if (outcome_.dkim_mode != AuthMode::Disable) {
        if (outcome_.source == "relay-ar" || outcome_.dkim.empty()) {
            out += "; dkim=" + outcome_.dkim_result;
            if (outcome_.dkim.empty() && outcome_.source != "relay-ar") out += " (no signatures)";
        }
        for (const auto& r : outcome_.dkim) {
            out += "; dkim=" + std::string(auth::dkim_status_name(r.status));
            if (!r.reason.empty() && r.status != auth::DkimStatus::Pass) {
                std::string reason = r.reason;
                std::replace(reason.begin(), reason.end(), '(', '[');
                std::replace(reason.begin(), reason.end(), ')', ']');
                out += " (" + reason + ")";
            }
            if (!r.domain.empty()) out += " header.d=" + r.domain;
            if (!r.selector.empty()) out += " header.s=" + r.selector;
            if (!r.header_b.empty()) out += " header.b=\"" + r.header_b + "\"";
        }
    }
    if (outcome_.dmarc_mode != AuthMode::Disable) {
        out += "; dmarc=" + outcome_.dmarc_result;
        if (outcome_.dmarc_result == "fail") out += " (disposition=" + outcome_.dmarc_policy + ")";
        if (!outcome_.dmarc_from.empty()) out += " header.from=" + outcome_.dmarc_from;
    }
    return out;
}

}  // namespace relaytrust
