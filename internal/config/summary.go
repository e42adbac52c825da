package config

import (
	"fmt"
	"net/url"
	"strings"
	"time"
)

// Summary describes the config in a few lines for `dropsync check-config`: where Redis is,
// what is served, and which shops and suppliers are set up. It prints no secret: tokens and
// webhook secrets are left out and URLs lose their passwords.
func (c *Config) Summary() string {
	var b strings.Builder
	line := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }

	line("redis:     %s", redactURL(c.Redis.URL))
	line("http:      %s (webhook bodies up to %d bytes)", c.HTTP.Addr, c.HTTP.MaxBodyBytes)
	line("workers:   %d", c.Workers.Concurrency)
	line("log:       %s, %s", c.Log.Level, c.Log.Format)
	line("shops:     %d", len(c.Shops))
	for _, s := range c.Shops {
		api := "https://" + s.Domain
		if s.APIBaseURL != "" {
			api = redactURL(s.APIBaseURL)
		}
		poll := "polling off"
		if s.PollInterval > 0 {
			poll = "polling every " + shortDuration(s.PollInterval)
		}
		line("  %s  API %s at %s, %s", s.Domain, s.APIVersion, api, poll)
	}
	line("suppliers: %d", len(c.Suppliers))
	for _, s := range c.Suppliers {
		poll := "webhooks only"
		if s.PollInterval > 0 {
			poll = "tracking polled every " + shortDuration(s.PollInterval)
		}
		line("  %s  %s at %s, %s", s.ID, s.Kind, redactURL(s.BaseURL), poll)
	}
	if c.MappingsFile != "" {
		line("mappings:  %s", c.MappingsFile)
	}
	line("holds:     %s", holds(c.Rules))
	line("invoices:  series %s, credit notes %s, issued when %s", c.Invoices.Series, c.Invoices.CreditNoteSeries, c.Invoices.IssueOn)
	return b.String()
}

// holds lists what makes dropsync hold an order for a person to look at.
func holds(r Rules) string {
	var hs []string
	if r.MinMarginPercent.IsPositive() {
		hs = append(hs, "margin below "+r.MinMarginPercent.String()+"%")
	}
	if r.RequirePaid {
		hs = append(hs, "unpaid")
	}
	if r.HoldRisk != "" && r.HoldRisk != "none" {
		hs = append(hs, "risk "+r.HoldRisk+" or above")
	}
	if r.MaxQuantity > 0 {
		hs = append(hs, fmt.Sprintf("a line quantity above %d", r.MaxQuantity))
	}
	if len(r.HoldCountries) > 0 {
		hs = append(hs, "shipping to "+strings.Join(r.HoldCountries, ", "))
	}
	if len(hs) == 0 {
		return "none"
	}
	return strings.Join(hs, "; ")
}

// redactURL hides a URL's password; a string that is not a URL is not shown at all, since
// it may be anything.
func redactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return "(invalid URL)"
	}
	return u.Redacted()
}

// shortDuration prints 5m rather than time.Duration's 5m0s.
func shortDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = s[:len(s)-2]
	}
	if strings.HasSuffix(s, "h0m") {
		s = s[:len(s)-2]
	}
	return s
}
