// cdktf's jest matchers (toHaveResourceWithProperties, ...) and their global types, for the test
// files that use them. Imported there rather than set up for every file: loading cdktf's testing
// adapter costs each test file about 0.4 s.
import "cdktf/lib/testing/adapters/jest";
import { Testing } from "cdktf";

Testing.setupJest();
