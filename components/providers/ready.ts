// The NodeReady provider. Its own module, so an installed package stores it in state as a require() of this file.
import { stepProvider } from "./step-provider";

export = stepProvider("NodeReady");
