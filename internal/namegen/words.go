package namegen

// builtinAdjectives and builtinNouns are the default word lists: short,
// lowercase ascii, inoffensive, and each a valid DNS label part.
var builtinAdjectives = []string{
	"amber", "azure", "bold", "brave", "breezy", "bright", "brisk", "bubbly",
	"busy", "calm", "cheery", "clever", "cosmic", "cozy", "crisp", "curious",
	"daring", "dapper", "dusty", "eager", "fair", "fancy", "fast", "fluffy",
	"fond", "frosty", "fuzzy", "gentle", "glad", "golden", "grand", "happy",
	"hardy", "hazy", "humble", "jazzy", "jolly", "keen", "kind", "leafy",
	"lively", "lucky", "lunar", "mellow", "merry", "mighty", "misty", "modest",
	"mossy", "neat", "nifty", "nimble", "noble", "patient", "peppy", "plucky",
	"polar", "polite", "proud", "quick", "quiet", "rapid", "ready", "rosy",
	"rustic", "sage", "sandy", "shiny", "silent", "silver", "simple", "sleek",
	"smart", "smooth", "snappy", "snowy", "solid", "sonic", "spicy", "spry",
	"steady", "stellar", "stout", "sturdy", "sunlit", "sunny", "swift", "tidy",
	"tiny", "tough", "tranquil", "trusty", "velvet", "vivid", "warm", "windy",
	"wise", "witty", "zesty", "zippy",
}

var builtinNouns = []string{
	"acorn", "alpaca", "aspen", "badger", "beaver", "beetle", "birch", "bison",
	"bobcat", "brook", "camel", "canyon", "cedar", "cheetah", "comet", "coyote",
	"crane", "delta", "dingo", "dolphin", "donkey", "eagle", "egret", "elk",
	"ember", "falcon", "fern", "ferret", "finch", "fox", "gazelle", "gecko",
	"glacier", "gopher", "harbor", "hare", "hedgehog", "heron", "ibex", "ibis",
	"jackal", "kestrel", "kiwi", "koala", "lark", "lemur", "llama", "lynx",
	"magpie", "maple", "marmot", "marten", "meadow", "mink", "moose", "narwhal",
	"newt", "ocelot", "orca", "osprey", "otter", "owl", "panda", "panther",
	"parrot", "pebble", "pelican", "penguin", "pika", "plover", "puffin",
	"quail", "rabbit", "raven", "robin", "salmon", "seahorse", "seal", "shrew",
	"sparrow", "squid", "starling", "stork", "swan", "tapir", "tern", "thrush",
	"tiger", "toucan", "trout", "turtle", "vole", "wallaby", "walrus", "weasel",
	"willow", "wombat", "wren", "yak", "zebra",
}
