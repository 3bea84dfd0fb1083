package main

import (
	"fmt"
	"strings"
	"sync/atomic"
	"time"
)

// outageResult is scenario 3 for one library: phase A starts with a valid
// token that outlives the outage, phase B with no token.
type outageResult struct {
	// Phase A.
	validSent, validOK int           // requests started while the token was valid
	afterExpiryFailed  int           // failed after the token expired
	afterExpiryOK      time.Duration // expiry to the first success after it; -1 if none within the cap
	aTokenRequests     int           // token requests during the outage
	aMinGap            time.Duration // shortest gap between two of them
	aFailP50, aFailP99 time.Duration // time failing requests took
	// Requests started from the outage's end on (the token's expiry and
	// every refresh after the endpoint is back fall in it): how many waited
	// ≥ 100 ms for a token, and the slowest wait.
	aHeldAfter     int
	aMaxAddedAfter time.Duration
	// Phase B.
	bSent, bOK         int // requests started during the outage; of them, succeeded before its end
	bTokenRequests     int
	bMinGap            time.Duration
	bFailP50, bFailP99 time.Duration
	recovery           time.Duration // outage end to the first success; -1 if none within the cap
	// backoffSteps counts the SDK's backoff events during both outages
	// (0 for the peers, which have none).
	aBackoffs, bBackoffs int64
}

// runOutage makes the token endpoint fail for p.outage (503, then
// connection refused) under a steady load, for the three libraries at once
// (each with its own endpoint and API): first while a token valid
// throughout the outage is cached, then with no token.
//
// The endpoint takes p.outageLatency for every answer, so that a library
// that fetches while holding its callers shows it. Phase A also runs the
// peers with a 1 s early expiry (variantEarly1s); phase B, where no token
// exists yet, only the defaults.
//
// The whole scenario runs p.outageRuns times: backoff with full jitter
// decides when the next token request goes out, so outcomes differ from
// run to run. The table shows the first run, and every run's figure where
// they differ most.
func runOutage(p params) (map[setup][]outageResult, error) {
	out := map[setup][]outageResult{}
	for range max(p.outageRuns, 1) {
		res, err := eachSetup(true, outageSetups(), func(s setup) (outageResult, error) {
			r, err := outageValid(p, s)
			if err != nil || s.variant != "" {
				return r, err
			}
			return r, outageNoToken(p, s, &r)
		})
		if err != nil {
			return nil, err
		}
		for n, r := range res {
			out[n] = append(out[n], r)
		}
	}
	return out, nil
}

// outageSchedule fails idp from start for d: 503 for the first half,
// connection refused for the second. It returns when the endpoint is up.
func outageSchedule(idp *idp, start time.Time, d time.Duration) error {
	time.Sleep(time.Until(start))
	idp.mode.Store(mode503)
	time.Sleep(time.Until(start.Add(d / 2)))
	idp.down()
	time.Sleep(time.Until(start.Add(d)))
	idp.mode.Store(modeOK)
	return idp.up()
}

// outageValid is phase A: the token lives outageLead + outage + 2 s, the
// outage starts outageLead after it was issued, and the load runs past the
// token's expiry until the library's first success after it (at most
// p.recoveryCap).
func outageValid(p params, s setup) (outageResult, error) {
	life := outageLife(p)
	idp, api, c, err := outageSetup(p, s, life)
	if err != nil {
		return outageResult{}, err
	}
	defer idp.close()
	defer api.close()
	defer c.close()
	if s := sendWithin(c, api.url(), 5*time.Second); !s.ok {
		return outageResult{}, fmt.Errorf("warm-up request failed")
	}
	t0 := time.Now()
	from, to, expiry := t0.Add(p.outageLead), t0.Add(p.outageLead+p.outage), t0.Add(life)
	schedErr := make(chan error, 1)
	go func() { schedErr <- outageSchedule(idp, from, p.outage) }()
	l, recovered := untilRecovered(p, expiry)
	ss := l.run(c, api.url())
	if err := <-schedErr; err != nil {
		return outageResult{}, err
	}
	r := outageResult{afterExpiryOK: sinceOr(recovered, expiry), aMaxAddedAfter: -1}
	var failed []sample
	for _, s := range ss {
		if !s.start.Before(to) {
			r.aMaxAddedAfter = max(r.aMaxAddedAfter, s.added)
			if s.added >= 100*time.Millisecond {
				r.aHeldAfter++
			}
		}
		switch {
		case s.start.Before(expiry.Add(-100 * time.Millisecond)): // margin: in flight at expiry
			r.validSent++
			if s.ok {
				r.validOK++
			}
		case !s.start.Before(expiry) && !s.ok:
			r.afterExpiryFailed++
		}
		if !s.ok {
			failed = append(failed, s)
		}
	}
	during := between(c.tok.attempts(), from, to)
	r.aTokenRequests, r.aMinGap = len(during), minGap(during)
	r.aFailP50, r.aFailP99 = quantile(failed, 0.5, durOf), quantile(failed, 0.99, durOf)
	if c.backoffs != nil {
		r.aBackoffs = c.backoffs.Load()
	}
	return r, nil
}

// outageNoToken is phase B: the endpoint fails from the first request on;
// the load runs through the outage and until the library's first success
// after it (at most p.recoveryCap).
func outageNoToken(p params, su setup, r *outageResult) error {
	idp, api, c, err := outageSetup(p, su, time.Minute)
	if err != nil {
		return err
	}
	defer idp.close()
	defer api.close()
	defer c.close()
	idp.mode.Store(mode503) // before the load: its first token request must fail
	t0 := time.Now()
	end := t0.Add(p.outage)
	schedErr := make(chan error, 1)
	go func() { schedErr <- outageSchedule(idp, t0, p.outage) }()
	l, recovered := untilRecovered(p, end)
	ss := l.run(c, api.url())
	if err := <-schedErr; err != nil {
		return err
	}
	var failed []sample
	for _, s := range ss {
		if !s.start.Before(end) {
			continue
		}
		r.bSent++
		switch {
		case s.ok && s.start.Add(s.dur).Before(end): // answered during the outage
			r.bOK++
		case !s.ok:
			failed = append(failed, s)
		}
	}
	during := between(c.tok.attempts(), t0, end)
	r.bTokenRequests, r.bMinGap = len(during), minGap(during)
	r.bFailP50, r.bFailP99 = quantile(failed, 0.5, durOf), quantile(failed, 0.99, durOf)
	r.recovery = sinceOr(recovered, end)
	if c.backoffs != nil {
		r.bBackoffs = c.backoffs.Load()
	}
	return nil
}

// untilRecovered returns the outage load, which runs until 200 ms after
// the first success of a request started at or after from (at most
// p.recoveryCap after from), and the UnixNano of that success's end.
func untilRecovered(p params, from time.Time) (load, *atomic.Int64) {
	recovered := new(atomic.Int64)
	return load{workers: p.outageWorkers, interval: p.outageInterval, timeout: 10 * time.Second,
		deadline: from.Add(p.recoveryCap),
		stop: func() bool {
			at := recovered.Load()
			return at != 0 && time.Since(time.Unix(0, at)) > 200*time.Millisecond
		},
		observe: func(s sample) {
			if s.ok && !s.start.Before(from) {
				recovered.CompareAndSwap(0, s.start.Add(s.dur).UnixNano())
			}
		}}, recovered
}

// sinceOr returns the time from `from` to the recorded success, or -1.
func sinceOr(at *atomic.Int64, from time.Time) time.Duration {
	if v := at.Load(); v != 0 {
		return time.Unix(0, v).Sub(from)
	}
	return -1
}

// outageSetups are the setups of phase A: the defaults and the peers with
// a 1 s early expiry.
func outageSetups() []setup { return append(defaults(), peers(variantEarly1s)...) }

// outageLife is phase A's token lifetime: the outage starts outageLead
// after the token is issued and ends 2 s before it expires.
func outageLife(p params) time.Duration { return p.outageLead + p.outage + 2*time.Second }

func outageSetup(p params, su setup, life time.Duration) (*idp, *api, *client, error) {
	idp, err := newIDP(life)
	if err != nil {
		return nil, nil, nil, err
	}
	idp.latency.Store(int64(p.outageLatency))
	api := newAPI(idp)
	c, err := newClient(su.lib, env{tokenURL: idp.url(), next: stampRT{newHTTPTransport(p.outageWorkers)},
		lifetime: life, variant: su.variant})
	if err != nil {
		idp.close()
		api.close()
		return nil, nil, nil, err
	}
	return idp, api, c, nil
}

func outageRows(p params, runs map[setup][]outageResult) []row {
	first := func(v string, fn func(outageResult) string) map[string]string {
		f := func(s setup) string { return fn(runs[s][0]) }
		if v == "" {
			return cells(func(n string) string { return f(setup{lib: n}) })
		}
		return variantCells(v, f)
	}
	each := func(v string, fn func(outageResult) string) map[string]string {
		f := func(s setup) string {
			var vs []string
			for _, r := range runs[s] {
				vs = append(vs, fn(r))
			}
			return strings.Join(vs, " · ")
		}
		if v == "" {
			return cells(func(n string) string { return f(setup{lib: n}) })
		}
		return variantCells(v, f)
	}
	nRuns := ""
	if n := len(runs[setup{lib: libSDK}]); n > 1 {
		nRuns = fmt.Sprintf(" (each of %d runs)", n)
	}
	life := outageLife(p)
	a := fmt.Sprintf("3a outage %s from %s into a %s token (%d goroutines, 1 request / %s each, endpoint latency %s)",
		fmtDur(p.outage), fmtDur(p.outageLead), fmtDur(life), p.outageWorkers, fmtDur(p.outageInterval), fmtDur(p.outageLatency))
	b := fmt.Sprintf("3b outage %s, no token yet (endpoint latency %s)", fmtDur(p.outage), fmtDur(p.outageLatency))
	rowsA := func(v string) []row {
		sc := a
		if v != "" {
			sc = a + ", peers' variant"
		}
		return []row{
			{sc, "setting", first(v, func(outageResult) string { return "" }), ""},
			{sc, "requests succeeded while the token was valid" + nRuns, each(v, func(r outageResult) string { return fmt.Sprintf("%d / %d", r.validOK, r.validSent) }), "all"},
			{sc, "token requests during the outage" + nRuns, each(v, func(r outageResult) string { return fmt.Sprint(r.aTokenRequests) }), "≤ 1 per backoff step"},
			{sc, "requests failed after the token expired, endpoint back 2 s before" + nRuns, each(v, func(r outageResult) string { return fmt.Sprint(r.afterExpiryFailed) }), ""},
			{sc, "requests held ≥ 100 ms for a token once the endpoint was back" + nRuns, each(v, func(r outageResult) string { return fmt.Sprint(r.aHeldAfter) }), ""},
			{sc, "slowest added wait once the endpoint was back" + nRuns, each(v, func(r outageResult) string { return fmtDur(r.aMaxAddedAfter) }), ""},
		}
	}
	rs := rowsA("")
	// The setting cells need the env, not a result.
	rs[0].values = cells(func(n string) string { return setting(n, env{lifetime: life}) })
	rs = append(rs[:3], append([]row{
		{a, "shortest gap between token requests (first run)", first("", func(r outageResult) string { return fmtDur(r.aMinGap) }), "≥ 1 s"},
		{a, "failing requests: median / p99 time (first run)", first("", func(r outageResult) string { return fmtDur(r.aFailP50) + " / " + fmtDur(r.aFailP99) }), ""},
	}, rs[3:]...)...)
	va := rowsA(variantEarly1s)
	va[0].values = variantCells(variantEarly1s, func(s setup) string { return setting(s.lib, env{lifetime: life, variant: s.variant}) })
	rs = append(rs, va...)
	return append(rs,
		row{b, "requests started during the outage that succeeded before its end" + nRuns, each("", func(r outageResult) string { return fmt.Sprintf("%d / %d", r.bOK, r.bSent) }), ""},
		row{b, "token requests during the outage" + nRuns, each("", func(r outageResult) string { return fmt.Sprint(r.bTokenRequests) }), "≤ 1 per backoff step"},
		row{b, "shortest gap between token requests (first run)", first("", func(r outageResult) string { return fmtDur(r.bMinGap) }), "≥ 1 s"},
		row{b, "failing requests: median / p99 time (first run)", first("", func(r outageResult) string { return fmtDur(r.bFailP50) + " / " + fmtDur(r.bFailP99) }), ""},
		row{b, "first success after the endpoint is back" + nRuns, each("", func(r outageResult) string { return recoveryCell(r.recovery, p.recoveryCap) }),
			"≤ 1 backoff step (≤ " + fmtDur(maxBackoff) + ")"},
	)
}

func recoveryCell(d, limit time.Duration) string {
	if d < 0 {
		return "none within " + fmtDur(limit)
	}
	return fmtDur(d)
}
