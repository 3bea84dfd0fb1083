package main

import "time"

// params sizes the scenarios. full is the documented run (fullDuration on
// 2 cores); quick keeps every scenario's shape with shorter durations
// (quickDuration). The notes in results.md are generated from these values.
type params struct {
	benchtime  time.Duration // per hot-path benchmark
	benchCount int           // runs of each benchmark; the median is reported

	refreshWorkers  int           // goroutines across the expiry
	refreshInterval time.Duration // between one goroutine's requests
	refreshLifetime time.Duration // token lifetime
	refreshLatency  time.Duration // token endpoint latency
	refreshRuns     int           // the scenario is repeated: its slowest waits are noise-sized

	outage         time.Duration // how long the endpoint fails (half 503, half refused)
	outageLead     time.Duration // valid-token phase: outage starts this long after the token
	outageWorkers  int
	outageInterval time.Duration
	outageLatency  time.Duration // token endpoint latency, also for its error answers
	recoveryCap    time.Duration // how long to wait for a library to recover
	outageRuns     int           // the scenario is repeated: backoff jitter varies the outcome

	cancelLatency time.Duration // slow token endpoint
	cancelAfter   time.Duration // the first caller gives up after this
	cancelOthers  int

	stormRequests int

	retryAfter time.Duration // the 429's Retry-After
}

var fullParams = params{
	benchtime:       time.Second,
	benchCount:      3,
	refreshWorkers:  1000,
	refreshInterval: 200 * time.Millisecond,
	refreshLifetime: 8 * time.Second,
	refreshLatency:  500 * time.Millisecond,
	refreshRuns:     3,
	outage:          10 * time.Second,
	outageLead:      8 * time.Second,
	outageLatency:   200 * time.Millisecond,
	outageWorkers:   20,
	outageInterval:  50 * time.Millisecond,
	recoveryCap:     32 * time.Second,
	outageRuns:      3,
	cancelLatency:   time.Second,
	cancelAfter:     200 * time.Millisecond,
	cancelOthers:    50,
	stormRequests:   100,
	retryAfter:      2 * time.Second,
}

var quickParams = params{
	benchtime:       100 * time.Millisecond,
	benchCount:      1,
	refreshWorkers:  1000,
	refreshInterval: 250 * time.Millisecond,
	refreshLifetime: 4 * time.Second,
	refreshLatency:  500 * time.Millisecond,
	refreshRuns:     1,
	outage:          4 * time.Second,
	outageLead:      3 * time.Second,
	outageLatency:   200 * time.Millisecond,
	outageWorkers:   10,
	outageInterval:  50 * time.Millisecond,
	recoveryCap:     5 * time.Second,
	outageRuns:      1,
	cancelLatency:   time.Second,
	cancelAfter:     200 * time.Millisecond,
	cancelOthers:    50,
	stormRequests:   100,
	retryAfter:      2 * time.Second,
}
