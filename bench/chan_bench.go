// chan_bench.go: the channel micro-benchmark of chan_bench.c, in Go.
//
// It runs the same scenarios with the same message counts, the same
// payload (8-byte values) and the same checks as bench/chan_bench.c, and
// prints the same lines, so that bench/chan_bench.sh can set the two side by
// side.  It uses the standard library only and needs no module: build it
// with "go build -o build/chan_bench_go bench/chan_bench.go".  Leave
// GOMAXPROCS at its default (the number of CPUs) for a fair comparison.
package main

import (
	"flag"
	"fmt"
	"os"
	"sync"
	"time"
)

// How consumers receive: range over the one channel, or a select over a
// receive case on each of two channels, without or with a timeout case
// (time.After of one second, which never fires here).
const (
	recv = iota
	selectRecv
	selectTimeout
)

// A scenario: nchan channels of capacity capacity, nprod goroutines
// sending (producer i on channel i % nchan) and ncons receiving msgs
// values in all.  Keep this table in step with the one in chan_bench.c:
// same names, same order, same default counts.
type scenario struct {
	name     string
	capacity int
	nchan    int
	how      int
	nprod    int
	ncons    int
	msgs     uint64
}

var scenarios = []scenario{
	{"unbuf_1p1c", 0, 1, recv, 1, 1, 2000000},
	{"buf1_1p1c", 1, 1, recv, 1, 1, 2000000},
	{"buf128_1p1c", 128, 1, recv, 1, 1, 8000000},
	{"buf128_4p4c", 128, 1, recv, 4, 4, 8000000},
	{"unbuf_4p4c", 0, 1, recv, 4, 4, 2000000},
	{"select2_buf128_2p1c", 128, 2, selectRecv, 2, 1, 4000000},
	{"select2to_buf128_2p1c", 128, 2, selectTimeout, 2, 1, 4000000},
}

// Each value carries its producer in the top bits and a sequence number,
// counting from 1, in the rest, so that a consumer can check that every
// producer's values reach it in the order sent.
const (
	seqBits = 48
	seqMask = 1<<seqBits - 1
	maxMsgs = seqMask
)

// What one consumer saw.
type tally struct {
	count uint64
	sum   uint64
	bad   string // The first inconsistency seen, or "".
}

func produce(ch chan<- uint64, id int, count uint64, wg *sync.WaitGroup) {
	defer wg.Done()
	tag := uint64(id) << seqBits
	for seq := uint64(1); seq <= count; seq++ {
		ch <- tag | seq
	}
}

// Receives the next value as how says from c1, or from c1 and c2, which
// it sets to nil once closed and drained.  Returns false when all are.
// The timeout case, when there is one, is time.After's channel; without
// one the select has just the two receive cases.
func take(c1, c2 *chan uint64, how int) (uint64, bool) {
	// Whether a receive got a value; nils the channel if it is done.
	got := func(c *chan uint64, ok bool) bool {
		if !ok {
			*c = nil
		}
		return ok
	}
	for *c1 != nil || *c2 != nil {
		var v uint64
		var ok bool
		switch how {
		case recv:
			v, ok = <-*c1
			return v, ok
		case selectRecv:
			select {
			case v, ok = <-*c1:
				ok = got(c1, ok)
			case v, ok = <-*c2:
				ok = got(c2, ok)
			}
		default:
			select {
			case v, ok = <-*c1:
				ok = got(c1, ok)
			case v, ok = <-*c2:
				ok = got(c2, ok)
			case <-time.After(time.Second):
			}
		}
		if ok {
			return v, true
		}
	}
	return 0, false
}

func consume(c1, c2 chan uint64, how int, nprod int, t *tally,
	wg *sync.WaitGroup) {
	defer wg.Done()
	// Count in locals and store once at the end: the tallies sit side by
	// side, and updating them in the loop would share cache lines.
	var count, sum uint64
	var bad string
	last := make([]uint64, nprod)
	for {
		v, more := take(&c1, &c2, how)
		if !more {
			break
		}
		id := int(v >> seqBits)
		seq := v & seqMask
		if id >= nprod {
			if bad == "" {
				bad = fmt.Sprintf("value %#x from no producer",
					v)
			}
		} else if seq <= last[id] {
			if bad == "" {
				bad = fmt.Sprintf("producer %d: %d after %d",
					id, seq, last[id])
			}
		} else {
			last[id] = seq
		}
		count++
		sum += v
	}
	t.count, t.sum, t.bad = count, sum, bad
}

// Returns the sum, modulo 2^64, of the values producer id sends when it
// sends count of them.  Halving the even factor first keeps the sum of
// 1..count exact modulo 2^64.
func checksum(id int, count uint64) uint64 {
	var seqsum uint64
	if count%2 == 0 {
		seqsum = count / 2 * (count + 1)
	} else {
		seqsum = (count + 1) / 2 * count
	}
	return count*(uint64(id)<<seqBits) + seqsum
}

// Runs one scenario with msgs values, checks that each arrived once and in
// order per producer, and returns the time taken from spawning the first
// goroutine to the last consumer's end.
func run(s scenario, msgs uint64) (time.Duration, error) {
	chans := make([]chan uint64, s.nchan)
	for i := range chans {
		chans[i] = make(chan uint64, s.capacity)
	}
	var c2 chan uint64
	if s.nchan > 1 {
		c2 = chans[1]
	}
	tallies := make([]tally, s.ncons)
	var pwg, cwg sync.WaitGroup
	var want uint64

	start := time.Now()
	cwg.Add(s.ncons)
	for i := 0; i < s.ncons; i++ {
		go consume(chans[0], c2, s.how, s.nprod, &tallies[i], &cwg)
	}
	pwg.Add(s.nprod)
	for i := 0; i < s.nprod; i++ {
		count := msgs / uint64(s.nprod)
		if uint64(i) < msgs%uint64(s.nprod) {
			count++
		}
		want += checksum(i, count)
		go produce(chans[i%s.nchan], i, count, &pwg)
	}
	pwg.Wait()
	for _, ch := range chans {
		close(ch)
	}
	cwg.Wait()
	elapsed := time.Since(start)

	var count, sum uint64
	for i := range tallies {
		if tallies[i].bad != "" {
			return 0, fmt.Errorf("consumer %d: %s", i,
				tallies[i].bad)
		}
		count += tallies[i].count
		sum += tallies[i].sum
	}
	if count != msgs {
		return 0, fmt.Errorf("received %d values, sent %d",
			count, msgs)
	}
	if sum != want {
		return 0, fmt.Errorf("checksum %#x, want %#x", sum, want)
	}
	return elapsed, nil
}

func usage() {
	fmt.Fprintf(os.Stderr,
		"usage: chan_bench_go [-n messages] [scenario ...]\n"+
			"scenarios:")
	for _, s := range scenarios {
		fmt.Fprintf(os.Stderr, " %s", s.name)
	}
	fmt.Fprintf(os.Stderr, "\n")
}

func main() {
	flag.Usage = usage
	n := flag.Uint64("n", 0,
		"messages per scenario (0: each scenario's default)")
	flag.Parse()
	if *n > maxMsgs {
		fmt.Fprintf(os.Stderr, "chan_bench_go: -n %d: out of range\n",
			*n)
		os.Exit(2)
	}

	var todo []scenario
	for _, name := range flag.Args() {
		found := false
		for _, s := range scenarios {
			if s.name == name {
				todo = append(todo, s)
				found = true
				break
			}
		}
		if !found {
			fmt.Fprintf(os.Stderr,
				"chan_bench_go: %s: no such scenario\n", name)
			usage()
			os.Exit(2)
		}
	}
	if len(todo) == 0 {
		todo = scenarios
	}

	status := 0
	for _, s := range todo {
		msgs := s.msgs
		if *n != 0 {
			msgs = *n
		}
		if msgs < uint64(s.nprod) {
			msgs = uint64(s.nprod)
		}
		elapsed, err := run(s, msgs)
		if err != nil {
			fmt.Fprintf(os.Stderr, "chan_bench_go: %s: %v\n",
				s.name, err)
			status = 1
			continue
		}
		ns := float64(elapsed.Nanoseconds())
		fmt.Printf("%s %d msgs %.1f ns/msg %.2f Mmsg/s\n",
			s.name, msgs, ns/float64(msgs), float64(msgs)*1e3/ns)
	}
	os.Exit(status)
}
