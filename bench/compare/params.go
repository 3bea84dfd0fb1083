package main

import "time"

// params sizes the scenarios. full is the documented run (~2.5 minutes on
// 2 cores); quick keeps every scenario's shape with shorter durations (<60 s).
type params struct {
	benchtime  time.Duration // per hot-path benchmark
	benchCount int           // runs of each benchmark; the median is reported

	refreshWorkers  int           // goroutines across the expiry
	refreshInterval time.Duration // between one goroutine's requests
	refreshLifetime time.Duration // token lifetime
	refreshLatency  time.Duration // token endpoint latency

	outage         time.Duration // how long the endpoint fails (half 503, half refused)
	outageLead     time.Duration // valid-token phase: outage starts this long after the token
	outageWorkers  int
	outageInterval time.Duration
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
	outage:          10 * time.Second,
	outageLead:      2 * time.Second,
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
	outage:          4 * time.Second,
	outageLead:      3 * time.Second,
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
