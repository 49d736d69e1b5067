package attribution

import "time"

// SetPhaseTimer lets benchmarks time the phases of path building.
func SetPhaseTimer(f func(phase string, d time.Duration)) { phaseTimer = f }
