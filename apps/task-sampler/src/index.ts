export { taskSamplerService } from './service';
