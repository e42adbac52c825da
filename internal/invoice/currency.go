package invoice

import "strings"

// Exponent returns the number of decimals of a currency (ISO 4217 minor unit): 0 for JPY,
// KRW and the like, 3 for the dinars, 2 for the rest.
func Exponent(currency string) int32 {
	switch strings.ToUpper(currency) {
	case "BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG", "RWF", "UGX", "UYI",
		"VND", "VUV", "XAF", "XOF", "XPF":
		return 0
	case "BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND":
		return 3
	}
	return 2
}

// symbol returns how a currency is printed next to an amount, and whether it goes after
// it. Only symbols the embedded font can draw are listed; the others print their code.
func symbol(currency string) (sym string, after bool) {
	switch strings.ToUpper(currency) {
	case "EUR":
		return "€", false
	case "USD":
		return "$", false
	case "GBP":
		return "£", false
	case "JPY", "CNY":
		return "¥", false
	case "CAD":
		return "CA$", false
	case "AUD":
		return "A$", false
	case "NZD":
		return "NZ$", false
	case "PLN":
		return "zł", true
	case "SEK", "NOK", "DKK":
		return "kr", true
	case "CHF":
		return "CHF", true
	}
	return strings.ToUpper(currency), true
}
