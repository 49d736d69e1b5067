package bowtie

import (
	"os"
	"regexp"
)

// IngestConfig is the `ingest:` section of bowtie.yaml: the sources allowed
// to send events to the collection API (/v1/*) and what is kept of the
// sender's IP address and user agent.
type IngestConfig struct {
	// Sources lists the write keys, one per source. With none, the
	// collection API refuses every call.
	Sources []Source `yaml:"sources" json:"-"`
	// IP is what is stored of context.ip: "truncate" (default: the /24 of
	// an IPv4 address, the /48 of an IPv6 one), "hash" (HMAC-SHA-256 with
	// IPHashKey), "keep" or "drop".
	IP string `yaml:"ip" json:"ip"`
	// IPHashKey is the secret the "hash" policy keys its HMAC with; without
	// a secret a hashed IPv4 address could be found by trying them all.
	IPHashKey string `yaml:"ip_hash_key" json:"-"`
	// UserAgent is "keep" (default) or "drop".
	UserAgent string `yaml:"user_agent" json:"user_agent"`
}

// Source is one sender of events: a site, an app or a backend, known by
// its write key (sent as the HTTP basic-auth user).
type Source struct {
	// Name labels the source's events (events.properties."$source").
	Name string `yaml:"name" json:"name"`
	// WriteKey is the key; WriteKeyEnv names an environment variable that
	// holds it instead, so that the file holds no secret.
	WriteKey    string `yaml:"write_key" json:"-"`
	WriteKeyEnv string `yaml:"write_key_env" json:"-"`
}

var sourceName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$`)

// ValidSourceName reports whether s may name a source: letters, digits,
// '_', '.', '-', at most 64.
func ValidSourceName(s string) bool { return sourceName.MatchString(s) }

// init validates c, applies the defaults and resolves write_key_env.
func (c *IngestConfig) init() error {
	switch c.IP {
	case "":
		c.IP = "truncate"
	case "truncate", "keep", "drop":
	case "hash":
		if c.IPHashKey == "" {
			return Errorf(EINVALID, "ingest.ip: the hash policy needs ingest.ip_hash_key (a long random secret)")
		}
	default:
		return Errorf(EINVALID, "ingest.ip: %q must be truncate, hash, keep or drop", c.IP)
	}
	switch c.UserAgent {
	case "":
		c.UserAgent = "keep"
	case "keep", "drop":
	default:
		return Errorf(EINVALID, "ingest.user_agent: %q must be keep or drop", c.UserAgent)
	}
	seen := map[string]bool{}
	for i := range c.Sources {
		s := &c.Sources[i]
		if !ValidSourceName(s.Name) {
			return Errorf(EINVALID, "ingest.sources[%d]: name %q must be 1-64 letters, digits, '_', '.' or '-'", i, s.Name)
		}
		if s.WriteKeyEnv != "" {
			if s.WriteKey != "" {
				return Errorf(EINVALID, "ingest.sources[%d] (%s): give write_key or write_key_env, not both", i, s.Name)
			}
			s.WriteKey = os.Getenv(s.WriteKeyEnv)
			if s.WriteKey == "" {
				return Errorf(EINVALID, "ingest.sources[%d] (%s): $%s is empty", i, s.Name, s.WriteKeyEnv)
			}
		}
		if len(s.WriteKey) < 8 {
			return Errorf(EINVALID, "ingest.sources[%d] (%s): write_key must have at least 8 characters", i, s.Name)
		}
		if seen[s.WriteKey] {
			return Errorf(EINVALID, "ingest.sources[%d] (%s): the write key is used twice", i, s.Name)
		}
		seen[s.WriteKey] = true
	}
	return nil
}
