// Command bowtie is the single binary of the bowtie analytics engine: it
// generates demo data, imports files, prints reports and serves the API and
// the dashboard. Each subcommand lives in a file of its own and registers
// itself in commands.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"syscall"

	"github.com/bowtie-analytics/bowtie"
	"github.com/bowtie-analytics/bowtie/duckdb"
)

// command is one subcommand.
type command struct {
	summary string
	run     func(ctx context.Context, env *Env, args []string) error
}

// commands holds every subcommand by name; files register in init.
var commands = map[string]command{}

// Env is what a subcommand runs with: output streams and the global flags.
type Env struct {
	Stdout, Stderr io.Writer
	Config         Config
}

// Config is the configuration shared by every subcommand: defaults in code,
// overridden by flags.
type Config struct {
	// DB is the DuckDB file of the store.
	DB string
	// BusinessFile is the bowtie.yaml to read; a missing default file is
	// fine, a missing named file is an error.
	BusinessFile string
	businessSet  bool
}

// DefaultConfig returns the configuration used when no flag is given.
func DefaultConfig() Config {
	return Config{DB: "bowtie.duckdb", BusinessFile: "bowtie.yaml"}
}

// addGlobalFlags registers --db and --config on fs.
func (e *Env) addGlobalFlags(fs *flag.FlagSet) {
	fs.StringVar(&e.Config.DB, "db", e.Config.DB, "DuckDB `file` of the store")
	fs.Func("config", "business configuration `file` (default bowtie.yaml if present)", func(s string) error {
		e.Config.BusinessFile, e.Config.businessSet = s, true
		return nil
	})
}

// Business loads the business configuration.
func (e *Env) Business() (*bowtie.Business, error) {
	return bowtie.LoadBusiness(e.Config.BusinessFile, !e.Config.businessSet)
}

// OpenStore opens the store named by --db.
func (e *Env) OpenStore() (*duckdb.Store, error) {
	return duckdb.Open(e.Config.DB)
}

// newFlagSet returns a flag set for a subcommand that reports errors
// instead of exiting, with the global flags registered.
func (e *Env) newFlagSet(name, usage string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(e.Stderr)
	e.addGlobalFlags(fs)
	fs.Usage = func() {
		fmt.Fprintf(e.Stderr, "usage: bowtie %s\n\nflags:\n", usage)
		fs.PrintDefaults()
	}
	return fs
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	env := &Env{Stdout: os.Stdout, Stderr: os.Stderr, Config: DefaultConfig()}
	os.Exit(run(ctx, env, os.Args[1:]))
}

// run executes the subcommand named by args[0] and returns the exit status:
// 0 on success, 2 for usage and input errors, 1 otherwise.
func run(ctx context.Context, env *Env, args []string) int {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		usage(env.Stderr)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	cmd, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(env.Stderr, "bowtie: unknown command %q\n\n", args[0])
		usage(env.Stderr)
		return 2
	}
	err := cmd.run(ctx, env, args[1:])
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.Is(err, errUsage):
		return 2
	case errors.Is(err, errReported):
		return 1
	}
	fmt.Fprintf(env.Stderr, "bowtie %s: %s\n", args[0], errText(err))
	if bowtie.ErrorCode(err) == bowtie.EINVALID {
		return 2
	}
	return 1
}

// errUsage is returned after a flag error has been printed.
var errUsage = errors.New("usage")

// errReported is returned by a command that already printed its errors.
var errReported = errors.New("reported")

// errText is the message printed for err: a user error's message, or the
// whole chain for internal errors (the CLI user is the operator).
func errText(err error) string {
	var e *bowtie.Error
	if errors.As(err, &e) {
		return e.Message
	}
	return err.Error()
}

// parseFlags parses args into fs, mapping flag errors to errUsage.
func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return errUsage
	}
	return nil
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "bowtie — marketing and customer-lifecycle analytics\n\nusage: bowtie <command> [flags]\n\ncommands:")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-10s %s\n", n, commands[n].summary)
	}
	fmt.Fprintln(w, "\nRun 'bowtie <command> -h' for a command's flags. Docs: docs/cli.md")
}
