// Registers cdktf's matchers (toHaveResourceWithProperties, ...) and their global types.
import "cdktf/lib/testing/adapters/jest";
import { Testing } from "cdktf";

Testing.setupJest();
