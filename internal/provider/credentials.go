package provider

// Missing names the keys that get has no value for, in the order given: the
// required credentials an adapter's FromCredentials reports.
func Missing(get func(string) string, keys ...string) []string {
	var miss []string
	for _, k := range keys {
		if get(k) == "" {
			miss = append(miss, k)
		}
	}
	return miss
}
