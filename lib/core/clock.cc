#include "core/clock.h"

namespace ferry {

RealClock& RealClock::Get() {
  static RealClock clock;
  return clock;
}

}  // namespace ferry
