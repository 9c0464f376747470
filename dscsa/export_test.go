package dscsa

import "time"

// SetStreamPing sets how often streams opened from now on are pinged, and
// returns a function that restores it.
func SetStreamPing(d time.Duration) (restore func()) {
	old := streamPing
	streamPing = d
	return func() { streamPing = old }
}
