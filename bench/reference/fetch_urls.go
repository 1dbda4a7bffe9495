// Command fetch_urls is the Go original that the C fetch_urls is measured
// against by bench/fetch_bench.sh.  It is written from its description in
// the performance issue and uses the standard library only.
//
// Usage: fetch_urls_go [-serial] [url ...]
//
// Without URL arguments the URLs are read from standard input, one a line;
// blank lines are skipped.  By default every URL gets its own goroutine,
// which calls http.Get, reads the body to the end and sends its one-line
// summary over an unbuffered channel; main prints the lines as they arrive
// and then the total time.  With -serial the URLs are fetched one at a time,
// in order.  The default transport keeps up to 1000 idle connections (per
// host and in all) so that connections can be reused instead of closed.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"
)

// fetch gets one URL, drains its body and returns the summary line: the
// URL, the seconds it took and the status, or the error that ended it.
func fetch(url string) string {
	start := time.Now()
	resp, err := http.Get(url)
	if err != nil {
		return fmt.Sprintf("%s request encountered error: %s", url, err)
	}
	_, err = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if err != nil {
		return fmt.Sprintf("%s request encountered error: %s", url, err)
	}
	secs := time.Since(start).Seconds()
	return fmt.Sprintf("%s \t %.2fs \t %d", url, secs, resp.StatusCode)
}

// readURLs returns the non-blank lines of r, with surrounding white space
// removed.
func readURLs(r io.Reader) ([]string, error) {
	var urls []string
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		if u := strings.TrimSpace(sc.Text()); u != "" {
			urls = append(urls, u)
		}
	}
	return urls, sc.Err()
}

func main() {
	serial := flag.Bool("serial", false, "fetch the URLs one at a time")
	flag.Parse()

	urls := flag.Args()
	if len(urls) == 0 {
		var err error
		if urls, err = readURLs(os.Stdin); err != nil {
			fmt.Fprintf(os.Stderr, "fetch_urls: reading URLs: %s\n", err)
			os.Exit(2)
		}
	}

	// The default of 2 idle connections per host would close almost
	// every connection after its first request.
	t := http.DefaultTransport.(*http.Transport)
	t.MaxIdleConns = 1000
	t.MaxIdleConnsPerHost = 1000

	start := time.Now()
	if *serial {
		for _, u := range urls {
			fmt.Println(fetch(u))
		}
	} else {
		ch := make(chan string)
		for _, u := range urls {
			go func(u string) { ch <- fetch(u) }(u)
		}
		for range urls {
			fmt.Println(<-ch)
		}
	}
	fmt.Printf("Total time: %.2fs\n", time.Since(start).Seconds())
}
