// promcheck: does Prometheus accept this scrape body?
//
// ksm-py's own tool, built by tests/cluster/build.py against the pinned Prometheus module (never
// committed as a binary).  A body is parsed with Prometheus' model/textparse, the parser its scrape
// loop uses, and every series goes through the checks the scrape loop and the TSDB head apply
// before storing it (scrape.go: metric name present, lset.IsValid; head_append.go: WithoutEmpty,
// HasDuplicateLabelNames; one sample per series and timestamp).  On top of that, what the
// exposition formats forbid but a lenient parser lets through: escapes other than \\ \" \n,
// metadata after a family's samples or twice, and a family whose lines are not one group.
//
// Usage: promcheck [-content-type CT] [-utf8-names] [FILE ...]   (no FILE, or "-": stdin)
// Exit status 0 when every body is accepted whole, 1 with one line per problem on stderr otherwise,
// 2 on a usage or I/O error.
//
// promcheck -serve keeps running for a test session (fuzzing checks thousands of bodies): each
// request on stdin is a line "<byte length> <Content-Type>" followed by the body; each answer on
// stdout is one line: "ok <series>"; "duplicates <series> <problems>" when the only problems are
// series repeated in the body (Prometheus keeps the scrape and drops the later samples); or
// "rejected <problems>" (Prometheus fails the whole scrape), problems joined by " | ".
package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/prometheus/common/model"

	"github.com/prometheus/prometheus/model/exemplar"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/textparse"
)

const (
	textContentType = "text/plain; version=0.0.4; charset=utf-8"
	omContentType   = "application/openmetrics-text; version=1.0.0; charset=utf-8"
	maxProblems     = 20
)

func main() {
	contentType := flag.String("content-type", "",
		"Content-Type of the bodies (default: OpenMetrics when a body ends with \"# EOF\", else text 0.0.4)")
	utf8Names := flag.Bool("utf8-names", false,
		"accept any UTF-8 metric and label names (Prometheus 3's default scheme); by default names must "+
			"match [a-zA-Z_:][a-zA-Z0-9_:]*, as every kube-state-metrics name does")
	serve := flag.Bool("serve", false, "answer framed requests on stdin (see the package comment)")
	flag.Parse()

	sources := flag.Args()
	if len(sources) == 0 {
		sources = []string{"-"}
	}
	scheme := model.LegacyValidation
	if *utf8Names {
		scheme = model.UTF8Validation
	}
	if *serve {
		if err := serveRequests(os.Stdin, os.Stdout, scheme); err != nil {
			fmt.Fprintf(os.Stderr, "promcheck: %v\n", err)
			os.Exit(2)
		}
		return
	}
	failed := false
	for _, src := range sources {
		body, err := read(src)
		if err != nil {
			fmt.Fprintf(os.Stderr, "promcheck: %v\n", err)
			os.Exit(2)
		}
		ct := *contentType
		if ct == "" {
			ct = textContentType
			if strings.HasSuffix(string(body), "# EOF\n") {
				ct = omContentType
			}
		}
		problems, duplicates, series := check(body, ct, scheme)
		problems = append(problems, duplicates...)
		name := src
		if name == "-" {
			name = "<stdin>"
		}
		for i, p := range problems {
			if i == maxProblems {
				fmt.Fprintf(os.Stderr, "%s: ... and %d more problems\n", name, len(problems)-maxProblems)
				break
			}
			fmt.Fprintf(os.Stderr, "%s: %s\n", name, p)
		}
		if len(problems) > 0 {
			failed = true
			fmt.Fprintf(os.Stderr, "%s: REJECTED (%s, %d bytes)\n", name, ct, len(body))
		} else {
			fmt.Printf("%s: ok, %d series (%s)\n", name, series, ct)
		}
	}
	if failed {
		os.Exit(1)
	}
}

func serveRequests(in io.Reader, out io.Writer, scheme model.ValidationScheme) error {
	r := bufio.NewReaderSize(in, 1<<20)
	w := bufio.NewWriter(out)
	for {
		header, err := r.ReadString('\n')
		if errors.Is(err, io.EOF) && header == "" {
			return nil
		}
		if err != nil {
			return err
		}
		size, ct, ok := strings.Cut(strings.TrimSuffix(header, "\n"), " ")
		n, err := strconv.Atoi(size)
		if !ok || err != nil || n < 0 {
			return fmt.Errorf("bad request header %q", header)
		}
		body := make([]byte, n)
		if _, err := io.ReadFull(r, body); err != nil {
			return err
		}
		problems, duplicates, series := check(body, ct, scheme)
		switch {
		case len(problems) > 0:
			fmt.Fprintf(w, "rejected %s\n", joined(problems))
		case len(duplicates) > 0:
			fmt.Fprintf(w, "duplicates %d %s\n", series, joined(duplicates))
		default:
			fmt.Fprintf(w, "ok %d\n", series)
		}
		if err := w.Flush(); err != nil {
			return err
		}
	}
}

func joined(problems []string) string {
	if len(problems) > maxProblems {
		problems = append(problems[:maxProblems:maxProblems], fmt.Sprintf("... and %d more", len(problems)-maxProblems))
	}
	return strings.ReplaceAll(strings.Join(problems, " | "), "\n", "\\n")
}

func read(src string) ([]byte, error) {
	if src == "-" {
		return io.ReadAll(os.Stdin)
	}
	return os.ReadFile(src)
}

// family tracks one metric family (a name from HELP/TYPE/UNIT, or a bare sample name) while its
// lines are read.
type family struct {
	typ        model.MetricType
	hasType    bool
	hasHelp    bool
	hasUnit    bool
	hasSamples bool
}

// suffixes a family's sample names may add to the family name, by type (text 0.0.4 and OpenMetrics).
var suffixes = map[model.MetricType][]string{
	model.MetricTypeCounter:        {"_total", "_created"},
	model.MetricTypeSummary:        {"_sum", "_count", "_created"},
	model.MetricTypeHistogram:      {"_bucket", "_sum", "_count", "_created"},
	model.MetricTypeGaugeHistogram: {"_bucket", "_gsum", "_gcount"},
	model.MetricTypeInfo:           {"_info"},
}

func belongs(sample, fam string, f *family) bool {
	if sample == fam {
		return true
	}
	for _, s := range suffixes[f.typ] {
		if sample == fam+s {
			return true
		}
	}
	return false
}

// check returns what makes Prometheus fail the whole scrape (problems) and the samples it would
// drop as duplicates of an earlier series in the same body.
func check(body []byte, contentType string, scheme model.ValidationScheme) (problems, duplicates []string, series int) {
	report := func(format string, args ...any) {
		problems = append(problems, fmt.Sprintf(format, args...))
	}
	if !utf8.Valid(body) {
		report("body is not valid UTF-8 (first bad byte at offset %d)", firstInvalid(body))
	}
	problems = append(problems, checkEscapes(body)...)

	p, err := textparse.New(body, contentType, labels.NewSymbolTable(), textparse.ParserOptions{})
	if p == nil {
		report("no parser for Content-Type %q: %v", contentType, err)
		return problems, nil, 0
	}
	if err != nil {
		report("Content-Type %q: %v", contentType, err)
	}

	families := map[string]*family{}
	current := ""
	closed := map[string]bool{}
	seen := map[string]string{} // canonical label set -> the series text that first had it
	enter := func(name, what string) *family {
		if name != current {
			if closed[name] {
				report("%s for %q after other families: the lines of family %q are not one group", what, name, name)
			}
			if current != "" {
				closed[current] = true
			}
			current = name
		}
		f := families[name]
		if f == nil {
			f = &family{typ: model.MetricTypeUnknown}
			families[name] = f
		}
		return f
	}

	var (
		lset labels.Labels
		ex   exemplar.Exemplar
	)
	for {
		et, err := p.Next()
		if err != nil {
			if !errors.Is(err, io.EOF) {
				report("parse error: %v", err)
			}
			break
		}
		switch et {
		case textparse.EntryHelp:
			name, help := p.Help()
			f := enter(string(name), "HELP")
			if f.hasHelp {
				report("second HELP for %q", name)
			}
			if f.hasSamples {
				report("HELP for %q after its samples", name)
			}
			if !utf8.Valid(help) {
				report("HELP for %q is not valid UTF-8", name)
			}
			f.hasHelp = true
			continue
		case textparse.EntryType:
			name, typ := p.Type()
			f := enter(string(name), "TYPE")
			if f.hasType {
				report("second TYPE for %q", name)
			}
			if f.hasSamples {
				report("TYPE for %q after its samples", name)
			}
			f.hasType, f.typ = true, typ
			continue
		case textparse.EntryUnit:
			name, _ := p.Unit()
			f := enter(string(name), "UNIT")
			if f.hasUnit {
				report("second UNIT for %q", name)
			}
			f.hasUnit = true
			continue
		case textparse.EntryComment:
			continue
		}

		var met []byte
		if et == textparse.EntryHistogram {
			met, _, _, _ = p.Histogram()
		} else {
			met, _, _ = p.Series()
		}
		series++
		p.Labels(&lset)
		for p.Exemplar(&ex) {
		}

		// scrape.go: the series must be named and carry valid names and UTF-8 values.
		name := lset.Get(model.MetricNameLabel)
		if name == "" {
			report("%s: missing metric name", met)
			continue
		}
		if !lset.IsValid(scheme) {
			report("%s: invalid metric name or label names (or a value that is not UTF-8)", met)
		}
		// head_append.go: empty values are dropped, then every name must be unique.
		stored := lset.WithoutEmpty()
		if dup, ok := stored.HasDuplicateLabelNames(); ok {
			report("%s: label name %q is not unique: invalid sample", met, dup)
		}
		key := stored.String()
		if first, ok := seen[key]; ok {
			// The scrape survives this one: the TSDB refuses the later sample (ErrDuplicateSampleForTimestamp)
			// and counts it in prometheus_target_scrapes_sample_duplicate_timestamp_total.
			duplicates = append(duplicates, fmt.Sprintf(
				"%s: the same series as %s earlier in the body (duplicate sample for timestamp: dropped)", met, first))
		} else {
			seen[key] = string(met)
		}

		fam := name
		if f := families[current]; current != "" && belongs(name, current, f) {
			fam = current
		} else {
			for other, f := range families {
				if other != current && f.hasType && belongs(name, other, f) {
					fam = other
					break
				}
			}
		}
		enter(fam, "sample "+string(met)).hasSamples = true
	}
	return problems, duplicates, series
}

func firstInvalid(b []byte) int {
	for i := 0; i < len(b); {
		r, size := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && size <= 1 {
			return i
		}
		i += size
	}
	return -1
}

// checkEscapes scans every line for backslash escapes the exposition formats do not define: in a
// quoted label value only \\ \" \n; in HELP text \\ and \n (and \" in OpenMetrics).  The parser
// keeps unknown escapes literally, so they would silently change the value.
func checkEscapes(body []byte) []string {
	var problems []string
	for n, line := range strings.Split(string(body), "\n") {
		if strings.HasPrefix(line, "# HELP ") {
			rest := line[len("# HELP "):]
			if i := strings.IndexByte(rest, ' '); i >= 0 {
				if bad := badEscape(rest[i+1:], "\\n\""); bad != "" {
					problems = append(problems, fmt.Sprintf("line %d: HELP text has an undefined escape %q", n+1, bad))
				}
			}
			continue
		}
		if strings.HasPrefix(line, "#") {
			continue
		}
		inQuote := false
		for i := 0; i < len(line); i++ {
			c := line[i]
			switch {
			case c == '"':
				inQuote = !inQuote
			case c == '\\' && inQuote:
				if i+1 >= len(line) || !strings.ContainsRune("\\\"n", rune(line[i+1])) {
					end := min(i+2, len(line))
					problems = append(problems, fmt.Sprintf("line %d: undefined escape %q in a quoted value: %s",
						n+1, line[i:end], line))
				}
				i++
			}
		}
	}
	return problems
}

func badEscape(s, allowed string) string {
	for i := 0; i < len(s); i++ {
		if s[i] != '\\' {
			continue
		}
		if i+1 >= len(s) || !strings.ContainsRune("\\"+allowed, rune(s[i+1])) {
			return s[i:min(i+2, len(s))]
		}
		i++
	}
	return ""
}
