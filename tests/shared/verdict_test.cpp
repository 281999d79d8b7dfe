#include "verdict.h"

#include <doctest/doctest.h>

#include "session.h"

using namespace relaytrust;

TEST_CASE("verdict: replies are validated against the action") {
    CHECK(validate_reply(Action::Reject, {550, "5.7.1", "No"}).empty());
    CHECK(validate_reply(Action::Reject, {554, "", "No"}).empty());
    CHECK_FALSE(validate_reply(Action::Reject, {451, "4.7.1", "No"}).empty());
    CHECK(validate_reply(Action::Tempfail, {451, "4.7.1", "Later"}).empty());
    CHECK_FALSE(validate_reply(Action::Tempfail, {550, "5.7.1", "Later"}).empty());
    CHECK_FALSE(validate_reply(Action::Reject, {550, "5.7", "x"}).empty());
    CHECK_FALSE(validate_reply(Action::Reject, {550, "5.7.1234", "x"}).empty());
    CHECK_FALSE(validate_reply(Action::Reject, {550, "4.7.1", "x"}).empty());
    CHECK_FALSE(validate_reply(Action::Reject, {550, "5.7.1", "a\r\nb"}).empty());
    CHECK_FALSE(validate_reply(Action::Reject, {550, "5.7.1", "a\nb"}).empty());
    CHECK_FALSE(validate_reply(Action::Reject, {5500, "5.7.1", "x"}).empty());
    CHECK(validate_reply(Action::Accept, {250, "2.0.0", "OK"}).empty());
    CHECK_FALSE(validate_reply(Action::Accept, {550, "5.0.0", "x"}).empty());
}

TEST_CASE("verdict: default replies are valid for their action") {
    for (Action a :
         {Action::Accept, Action::Reject, Action::Tempfail, Action::Discard, Action::Quarantine}) {
        CHECK_MESSAGE(validate_reply(a, default_reply(a)).empty(), action_name(a));
    }
}

TEST_CASE("verdict: action and stage names round-trip") {
    for (int i = 0; i < static_cast<int>(kActionCount); ++i) {
        Action parsed;
        REQUIRE(parse_action(action_name(static_cast<Action>(i)), parsed));
        CHECK(parsed == static_cast<Action>(i));
    }
    for (int i = 0; i < static_cast<int>(kStageCount); ++i) {
        Stage parsed;
        REQUIRE(parse_stage(stage_name(static_cast<Stage>(i)), parsed));
        CHECK(parsed == static_cast<Stage>(i));
    }
    Action a;
    CHECK_FALSE(parse_action("Reject", a));
    Stage s;
    CHECK_FALSE(parse_stage("eom", s));
}
