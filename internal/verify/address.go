package verify

import (
	"regexp"
	"strings"

	"github.com/dropsync/dropsync/internal/dropsync"
	"github.com/dropsync/dropsync/internal/mapping"
)

// reasonNoAddress is the one address hold an operator cannot override: there is nowhere to
// send the parcel.
const reasonNoAddress = "order has no shipping address"

// noPostalCode lists destinations where a postal code is not used, or is optional enough
// that checkouts do not ask for one (IE's Eircode, HK, AE, most of the Caribbean and of
// Africa). A country missing here would hold valid orders, so when in doubt a country is
// listed: this rule catches obviously incomplete addresses, it is not a postal database.
var noPostalCode = setOf("" +
	"AC AE AG AI AO AQ AW BF BI BJ BO BQ BS BV BW BZ CD CF CG CI CK CM CW DJ DM ER FJ GA GD " +
	"GH GM GN GQ GY HK HM IE JM KE KI KM KN KP LC ML MO MR MS MU MW NA NR NU PA QA RW SA SB " +
	"SC SL SO SR SS ST SX SY TA TD TF TG TK TL TO TT TV TZ UG VU YE ZW")

// needsProvince lists destinations whose carriers need the state, province or territory.
var needsProvince = setOf("US CA AU")

// postalShapes are the postal code formats of common destinations, matched against the
// upper-cased code with runs of spaces collapsed. Separators people commonly leave out
// (PL 00-000, BR 00000-000, JP 123-4567) are optional: a hold must not fire on an address
// the carrier reads fine.
var postalShapes = func() map[string]*regexp.Regexp {
	shapes := map[string]string{
		"US": `\d{5}(-\d{4})?`,
		"PR": `\d{5}(-\d{4})?`,
		"CA": `[ABCEGHJ-NPRSTVXY]\d[ABCEGHJ-NPRSTV-Z] ?\d[ABCEGHJ-NPRSTV-Z]\d`,
		"GB": `[A-Z]{1,2}\d[A-Z\d]? ?\d[A-Z]{2}|GIR ?0AA`,
		"JE": `JE\d[A-Z\d]? ?\d[A-Z]{2}`,
		"GG": `GY\d[A-Z\d]? ?\d[A-Z]{2}`,
		"IM": `IM\d[A-Z\d]? ?\d[A-Z]{2}`,
		"DE": `\d{5}`,
		"FR": `\d{5}`,
		"IT": `\d{5}`,
		"ES": `\d{5}`,
		"FI": `\d{5}`,
		"MX": `\d{5}`,
		"MY": `\d{5}`,
		"TH": `\d{5}`,
		"TR": `\d{5}`,
		"KR": `\d{5}`,
		"HR": `\d{5}`,
		"EE": `\d{5}`,
		"NL": `[1-9]\d{3} ?[A-Z]{2}`,
		"PL": `\d{2}-?\d{3}`,
		"BR": `\d{5}-?\d{3}`,
		"PT": `\d{4}-?\d{3}`,
		"JP": `\d{3}-?\d{4}`,
		"AU": `\d{4}`,
		"NZ": `\d{4}`,
		"AT": `\d{4}`,
		"BE": `\d{4}`,
		"CH": `\d{4}`,
		"LI": `\d{4}`,
		"DK": `\d{4}`,
		"NO": `\d{4}`,
		"HU": `\d{4}`,
		"BG": `\d{4}`,
		"ZA": `\d{4}`,
		"PH": `\d{4}`,
		"LU": `(L-)?\d{4}`,
		"SE": `\d{3} ?\d{2}`,
		"CZ": `\d{3} ?\d{2}`,
		"SK": `\d{3} ?\d{2}`,
		"GR": `\d{3} ?\d{2}`,
		"IN": `[1-9]\d{5}`,
		"CN": `\d{6}`,
		"SG": `\d{6}`,
		"RU": `\d{6}`,
		"RO": `\d{6}`,
		"IL": `\d{5}(\d{2})?`,
	}
	out := make(map[string]*regexp.Regexp, len(shapes))
	for c, s := range shapes {
		out[c] = regexp.MustCompile(`^(` + s + `)$`)
	}
	return out
}()

func setOf(codes string) map[string]bool {
	set := map[string]bool{}
	for _, c := range strings.Fields(codes) {
		set[c] = true
	}
	return set
}

// checkAddress holds an order whose shipping address a carrier could not deliver to. Each
// reason names the field and the rule, never the value: hold reasons are shown to operators
// and kept in the timeline, and addresses are customer data.
func checkAddress(a *dropsync.Address) []Hold {
	if a == nil || *a == (dropsync.Address{}) {
		return []Hold{{Rule: RuleAddress, Reason: reasonNoAddress}}
	}
	var holds []Hold
	add := func(reason string) { holds = append(holds, Hold{Rule: RuleAddress, Reason: reason}) }
	if blank(a.FullName()) {
		add("recipient name is missing")
	}
	if blank(a.Address1) {
		add("street (address1) is missing")
	}
	if blank(a.City) {
		add("city is missing")
	}
	country := strings.ToUpper(strings.TrimSpace(a.CountryCode))
	switch {
	case country == "":
		add("country code is missing")
		return holds
	case !mapping.KnownCountry(country):
		add("country code is not a valid ISO 3166-1 alpha-2 code")
		return holds
	}
	zip := strings.Join(strings.Fields(strings.ToUpper(a.Zip)), " ")
	if zip == "" {
		if !noPostalCode[country] {
			add("postal code is missing (required for " + country + ")")
		}
	} else if shape, ok := postalShapes[country]; ok && !shape.MatchString(zip) {
		add("postal code is not valid for " + country)
	}
	if needsProvince[country] && blank(a.ProvinceCode) {
		add("province code is missing (required for " + country + ")")
	}
	return holds
}

func blank(s string) bool { return strings.TrimSpace(s) == "" }
