// The slot's life as slot.hpp draws it: every (from, to) pair is legal or
// not exactly as the diagram says, so a transport or shard that reuses a
// slot out of turn trips Slot::move_to's assert instead of corrupting a batch.
#include <catch2/catch.hpp>

#include <set>
#include <utility>

#include "net/slot.hpp"

using supervent::net::SlotState;

TEST_CASE("slot transitions: exactly the diagram's arrows are legal") {
    const std::set<std::pair<SlotState, SlotState>> arrows = {
        {SlotState::free, SlotState::filling},      {SlotState::filling, SlotState::queued},
        {SlotState::filling, SlotState::free},      // the engine had no batch
        {SlotState::queued, SlotState::sending},    {SlotState::queued, SlotState::free},  // failed unsent
        {SlotState::sending, SlotState::settling},  {SlotState::settling, SlotState::free},
        {SlotState::settling, SlotState::queued},   // a retry
    };
    const SlotState states[] = {SlotState::free, SlotState::filling, SlotState::queued, SlotState::sending,
                                SlotState::settling};
    for (SlotState from : states) {
        for (SlotState to : states) {
            INFO("from " << int(from) << " to " << int(to));
            CHECK(supervent::net::slot_transition_legal(from, to) == (arrows.count({from, to}) == 1));
        }
    }
}

TEST_CASE("a slot walks its whole life through move_to") {
    supervent::net::Slot slot;
    for (SlotState next : {SlotState::filling, SlotState::queued, SlotState::sending, SlotState::settling,
                           SlotState::queued, SlotState::sending, SlotState::settling, SlotState::free}) {
        slot.move_to(next);
        CHECK(slot.state == next);
    }
}
