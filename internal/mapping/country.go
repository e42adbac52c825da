package mapping

import "strings"

// assignedCountries are the officially assigned ISO 3166-1 alpha-2 codes (249), plus three
// codes that are not officially assigned but that storefronts and carriers use for real
// destinations: AC (Ascension Island) and TA (Tristan da Cunha), exceptionally reserved, and
// XK (Kosovo), user-assigned. Shopify reports addresses with all three, so rejecting them
// would hold orders that ship fine.
const assignedCountries = "" +
	"AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ " +
	"BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS BT BV BW BY BZ " +
	"CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ " +
	"DE DJ DK DM DO DZ " +
	"EC EE EG EH ER ES ET " +
	"FI FJ FK FM FO FR " +
	"GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY " +
	"HK HM HN HR HT HU " +
	"ID IE IL IM IN IO IQ IR IS IT " +
	"JE JM JO JP " +
	"KE KG KH KI KM KN KP KR KW KY KZ " +
	"LA LB LC LI LK LR LS LT LU LV LY " +
	"MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ " +
	"NA NC NE NF NG NI NL NO NP NR NU NZ " +
	"OM " +
	"PA PE PF PG PH PK PL PM PN PR PS PT PW PY " +
	"QA " +
	"RE RO RS RU RW " +
	"SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ " +
	"TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ " +
	"UA UG UM US UY UZ " +
	"VA VC VE VG VI VN VU " +
	"WF WS " +
	"YE YT " +
	"ZA ZM ZW " +
	"AC TA XK"

// countries is assignedCountries as a set. It is built once and only ever read.
var countries = func() map[string]bool {
	set := map[string]bool{}
	for _, c := range strings.Fields(assignedCountries) {
		set[c] = true
	}
	return set
}()

// countryHints names the right code for codes merchants commonly write instead: the United
// Kingdom's ISO code is GB although its internet domain is .uk, and the EU writes Greece EL.
var countryHints = map[string]string{
	"UK": "GB for the United Kingdom",
	"EL": "GR for Greece",
	"EN": "GB for England",
}

// KnownCountry reports whether code (upper-case) is an assigned ISO 3166-1 alpha-2 country
// code, or one of the few unassigned codes storefronts use for real places (AC, TA, XK).
func KnownCountry(code string) bool {
	return countries[code]
}

// countryProblem explains why code is not a country code, with a hint for common mistakes.
func countryProblem(code string) string {
	msg := "\"" + code + "\" is not an ISO 3166-1 alpha-2 country code"
	if hint, ok := countryHints[code]; ok {
		msg += " (use " + hint + ")"
	}
	return msg
}
